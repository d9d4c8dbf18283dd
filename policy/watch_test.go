package policy

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

const (
	goodPolicyA = "version: 1\nroutes:\n  - {name: a, policy: standard}\n"
	goodPolicyB = "version: 1\nroutes:\n  - {name: b, policy: high-trust}\n"
	badPolicy   = "version: 1\nroutes:\n  - {name: c, policy: nope}\n"
)

// reloads runs Watch on path and returns the channel of what it applied.
func reloads(t *testing.T, path, lastHash string) <-chan reload {
	t.Helper()
	w, err := NewWatcher(path, 20*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	out := make(chan reload, 16)
	done := make(chan struct{})
	go func() {
		w.Run(ctx, lastHash, func(s *Set, err error) { out <- reload{s, err} })
		close(done)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return out
}

type reload struct {
	set *Set
	err error
}

func next(t *testing.T, ch <-chan reload) reload {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(30 * time.Second): // a hang guard, not a timing assertion
		t.Fatal("no reload after a change")
		return reload{}
	}
}

func TestWatchFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "policy.yaml")
	write(t, path, goodPolicyA)
	first, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	ch := reloads(t, path, first.Hash)

	write(t, path, goodPolicyB)
	if r := next(t, ch); r.err != nil || r.set.Routes[0].Name != "b" {
		t.Fatalf("after an edit: %+v", r)
	}
	write(t, path, badPolicy)
	r := next(t, ch)
	if r.set != nil || len(Errors(r.err)) == 0 {
		t.Fatalf("a bad edit gave %+v, want positioned errors", r)
	}
	write(t, path, goodPolicyA)
	if r := next(t, ch); r.err != nil || r.set.Hash != first.Hash {
		t.Fatalf("after fixing: %+v", r)
	}
}

// TestWatchConfigMapSwap mounts a policy as Kubernetes does a ConfigMap
// volume: policy.yaml -> ..data/policy.yaml, ..data -> ..<timestamp>, and an
// update writes a new timestamped directory and renames a new ..data link over
// the old one. No file named policy.yaml is written.
func TestWatchConfigMapSwap(t *testing.T) {
	dir := t.TempDir()
	v1 := filepath.Join(dir, "..2026_11_22_10_00_00.000000001")
	os.Mkdir(v1, 0o755)
	write(t, filepath.Join(v1, "policy.yaml"), goodPolicyA)
	symlink(t, filepath.Base(v1), filepath.Join(dir, "..data"))
	symlink(t, "..data/policy.yaml", filepath.Join(dir, "policy.yaml"))

	first, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	ch := reloads(t, dir, first.Hash)

	v2 := filepath.Join(dir, "..2026_11_22_10_05_00.000000002")
	os.Mkdir(v2, 0o755)
	write(t, filepath.Join(v2, "policy.yaml"), goodPolicyB)
	symlink(t, filepath.Base(v2), filepath.Join(dir, "..data_tmp"))
	if err := os.Rename(filepath.Join(dir, "..data_tmp"), filepath.Join(dir, "..data")); err != nil {
		t.Fatal(err)
	}
	os.RemoveAll(v1)
	r := next(t, ch)
	if r.err != nil || r.set.Routes[0].Name != "b" {
		t.Fatalf("after the ..data swap: %+v", r)
	}
}

func TestLoadDirectorySkipsHiddenAndOtherFiles(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "a.yaml"), goodPolicyA)
	write(t, filepath.Join(dir, "README.md"), "not a policy")
	write(t, filepath.Join(dir, ".editor.yaml.swp"), "junk")
	write(t, filepath.Join(dir, "b.yml"), "version: 1\npolicies:\n  - {name: extra, rules: []}\n")
	set, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(set.Routes) != 1 || set.Policies["extra"] == nil || set.Source != dir {
		t.Errorf("set %+v", set)
	}
	if _, err := Load(t.TempDir()); err == nil {
		t.Error("an empty directory loaded")
	}
}

func write(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func symlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}

// TestWatchDirectoryDeletedAndRecreated: the policy directory removed (a
// failed reload, the last good policy kept by the caller) and created again
// with new files is followed.
func TestWatchDirectoryDeletedAndRecreated(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "policies")
	os.Mkdir(dir, 0o755)
	write(t, filepath.Join(dir, "p.yaml"), goodPolicyA)
	first, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	ch := reloads(t, dir, first.Hash)
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if r := next(t, ch); r.err == nil {
		t.Fatalf("directory gone: applied %v, want an error", r.set.Routes[0].Name)
	}
	os.Mkdir(dir, 0o755)
	write(t, filepath.Join(dir, "p.yaml"), goodPolicyB)
	for {
		r := next(t, ch)
		if r.err != nil {
			continue // a reload may run between the mkdir and the write
		}
		if r.set.Routes[0].Name != "b" {
			t.Fatalf("recreated directory: route %q, want b", r.set.Routes[0].Name)
		}
		break
	}
	// And the new directory is itself watched.
	write(t, filepath.Join(dir, "p.yaml"), goodPolicyA)
	if r := next(t, ch); r.err != nil || r.set.Routes[0].Name != "a" {
		t.Fatalf("edit in the recreated directory: %+v", r)
	}
}

// TestWatchSymlinkSwapped: --policy names a symlink (to a directory, then to
// a file) that is swapped atomically, as `ln -sfn` does.
func TestWatchSymlinkSwapped(t *testing.T) {
	for _, kind := range []string{"directory", "file"} {
		t.Run(kind, func(t *testing.T) {
			root := t.TempDir()
			target := func(name, content string) string {
				d := filepath.Join(root, name)
				os.Mkdir(d, 0o755)
				write(t, filepath.Join(d, "p.yaml"), content)
				if kind == "file" {
					return filepath.Join(d, "p.yaml")
				}
				return d
			}
			v1, v2 := target("v1", goodPolicyA), target("v2", goodPolicyB)
			link := filepath.Join(root, "current")
			if err := os.Symlink(v1, link); err != nil {
				t.Fatal(err)
			}
			first, err := Load(link)
			if err != nil {
				t.Fatal(err)
			}
			ch := reloads(t, link, first.Hash)
			// ln -sfn: a new link, renamed over the old one.
			tmp := filepath.Join(root, ".current.tmp")
			if err := os.Symlink(v2, tmp); err != nil {
				t.Fatal(err)
			}
			if err := os.Rename(tmp, link); err != nil {
				t.Fatal(err)
			}
			if r := next(t, ch); r.err != nil || r.set.Routes[0].Name != "b" {
				t.Fatalf("after the swap: %+v, want route b", r)
			}
			// The new target is watched: an edit in it reloads.
			edited := v2
			if kind == "directory" {
				edited = filepath.Join(v2, "p.yaml")
			}
			write(t, edited, goodPolicyA)
			if r := next(t, ch); r.err != nil || r.set.Routes[0].Name != "a" {
				t.Fatalf("edit in the new target: %+v, want route a", r)
			}
		})
	}
}
