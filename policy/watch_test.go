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
