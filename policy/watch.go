package policy

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/fsnotify/fsnotify"
)

// DefaultDebounce is how long Watch waits after the last change before it
// reloads: editors and Kubernetes' ConfigMap swap write in several steps.
const DefaultDebounce = 250 * time.Millisecond

// Watcher reloads a policy when its files change. Create it with
// [NewWatcher], which starts watching at once, then [Watcher.Run] it.
type Watcher struct {
	path     string
	debounce time.Duration
	fs       *fsnotify.Watcher
	dirs     map[string]bool // directories watched
}

// NewWatcher watches the directory of path (a file or a directory, as [Load]
// reads it), and those of the list files it names. Changes made after it
// returns are seen by Run.
//
// Directories are watched, not files: a Kubernetes ConfigMap mounted as a
// directory updates by swapping its ..data symlink, which changes no watched
// file but shows as an event in the directory. (A subPath mount never updates
// at all; mount the whole ConfigMap.) The directory holding path is watched
// too, so that path deleted and created again, or path a symlink swapped
// with `ln -sfn`, is seen; and what path resolves to is watched again at
// every reload, since a swapped symlink or a recreated directory is a new
// directory to the kernel.
func NewWatcher(path string, debounce time.Duration) (*Watcher, error) {
	if debounce <= 0 {
		debounce = DefaultDebounce
	}
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("watching %s: %w", path, err)
	}
	fs, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, fmt.Errorf("watching %s: %w", path, err)
	}
	w := &Watcher{path: path, debounce: debounce, fs: fs, dirs: map[string]bool{}}
	if err := w.watchPath(); err != nil {
		fs.Close()
		return nil, err
	}
	// The lists' directories are known once the policy is read; a policy
	// that does not load yet is followed at its first good reload.
	if set, err := Load(path); err == nil {
		w.follow(set)
	}
	return w, nil
}

// watchPath watches the directory holding path, and path itself (resolved
// through symlinks) when it is a directory, else the directory of the file
// it resolves to. Adding a directory already watched changes nothing; one
// deleted and created again is watched anew.
func (w *Watcher) watchPath() error {
	clean := filepath.Clean(w.path)
	dirs := []string{filepath.Dir(clean)}
	if real, err := filepath.EvalSymlinks(clean); err == nil {
		if info, err := os.Stat(real); err == nil && info.IsDir() {
			dirs = append(dirs, real)
		} else {
			dirs = append(dirs, filepath.Dir(real))
		}
	}
	for i, d := range dirs {
		if err := w.fs.Add(d); err != nil && i == 0 {
			return fmt.Errorf("watching %s: %w", d, err)
		}
	}
	return nil
}

// follow watches the directories of set's list files too, so that a list
// mounted apart (a Secret beside the policy's ConfigMap) reloads the policy
// when it changes. A directory that cannot be watched is left: the next
// reload tries again.
func (w *Watcher) follow(set *Set) {
	for _, l := range set.Lists {
		dir := filepath.Dir(l.File)
		if !w.dirs[dir] && w.fs.Add(dir) == nil {
			w.dirs[dir] = true
		}
	}
}

// Run reloads the policy whenever something changes in its directory or in
// the directory of one of its list files, a debounce after the last event,
// and calls apply with the new set, or with the error when the new files do
// not compile. A reload whose files (lists included) hash to lastHash (or to
// the last set applied) is not reported. Run returns when ctx is done, and
// closes the watcher.
func (w *Watcher) Run(ctx context.Context, lastHash string, apply func(*Set, error)) {
	defer w.fs.Close()
	timer := time.NewTimer(w.debounce)
	timer.Stop()
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case _, ok := <-w.fs.Events:
			if !ok {
				return
			}
			timer.Reset(w.debounce) // coalesce a burst of events into one reload
		case _, ok := <-w.fs.Errors:
			if !ok {
				return
			}
			// The kernel dropped events (queue overflow): reload to be sure.
			timer.Reset(w.debounce)
		case <-timer.C:
			w.watchPath() // what path names may be a new directory now
			set, err := Load(w.path)
			switch {
			case err != nil:
				apply(nil, err)
			default:
				w.follow(set)
				if set.Hash != lastHash {
					lastHash = set.Hash
					apply(set, nil)
				}
			}
		}
	}
}
