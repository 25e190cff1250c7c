// Package repocheck holds checks over the repository's files as a whole.
package repocheck

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// No file of the repository sends a reader to a document outside it: the
// docs are written from the code and live here.
func TestNoReferenceOutsideTheRepository(t *testing.T) {
	root := filepath.Join("..", "..")
	banned := []string{"DOMAIN" + ".md", "API" + ".md", "../" + "shared"}
	checked := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case ".git", ".cache", "bin", ".orchard", ".orchard-sim", "node_modules":
				return filepath.SkipDir
			}
			return nil
		}
		info, err := d.Info()
		if err != nil || info.Size() > 2<<20 {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if strings.IndexByte(string(b[:min(len(b), 8000)]), 0) >= 0 {
			return nil // binary
		}
		checked++
		for i, line := range strings.Split(string(b), "\n") {
			for _, s := range banned {
				if strings.Contains(line, s) {
					t.Errorf("%s:%d points outside the repository (%s): %s", path, i+1, s, strings.TrimSpace(line))
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 100 {
		t.Fatalf("only %d files checked: is the walk rooted at the repository?", checked)
	}
}
