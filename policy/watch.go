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

// Watch reloads the policy at path (a file or a directory, as [Load] reads
// it) whenever something changes in its directory, and calls apply with the
// new set, or with the error when the new files do not compile. Changes that
// leave the files' bytes as they were are not reported. It returns when ctx
// is done, or with an error if the directory cannot be watched.
//
// The directory is watched, not the file: a Kubernetes ConfigMap mounted as a
// directory updates by swapping its ..data symlink, which changes no watched
// file but shows as an event in the directory. (A subPath mount never updates
// at all; mount the whole ConfigMap.)
func Watch(ctx context.Context, path string, debounce time.Duration, lastHash string, apply func(*Set, error)) error {
	if debounce <= 0 {
		debounce = DefaultDebounce
	}
	dir := path
	if info, err := os.Stat(path); err != nil {
		return fmt.Errorf("watching %s: %w", path, err)
	} else if !info.IsDir() {
		dir = filepath.Dir(path)
	}
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("watching %s: %w", path, err)
	}
	defer w.Close()
	if err := w.Add(dir); err != nil {
		return fmt.Errorf("watching %s: %w", dir, err)
	}

	timer := time.NewTimer(debounce)
	timer.Stop()
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case _, ok := <-w.Events:
			if !ok {
				return nil
			}
			timer.Reset(debounce) // coalesce a burst of events into one reload
		case err, ok := <-w.Errors:
			if !ok {
				return nil
			}
			// The kernel dropped events (queue overflow): reload to be sure.
			_ = err
			timer.Reset(debounce)
		case <-timer.C:
			set, err := Load(path)
			switch {
			case err != nil:
				apply(nil, err)
			case set.Hash != lastHash:
				lastHash = set.Hash
				apply(set, nil)
			}
		}
	}
}
