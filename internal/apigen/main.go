package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
)

func main() {
	modelPath := flag.String("model", "", "botocore model JSON to read")
	outDir := flag.String("out", ".", "directory to write the *_gen.go files into")
	pkg := flag.String("package", "api", "package name of the generated files")
	flag.Parse()
	if *modelPath == "" || flag.NArg() > 0 {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(*modelPath, *outDir, *pkg); err != nil {
		fmt.Fprintln(os.Stderr, "apigen:", err)
		os.Exit(1)
	}
}

// generate reads the model at modelPath and returns the generated files.
func generate(modelPath, pkg string) (map[string][]byte, error) {
	m, err := loadModel(modelPath)
	if err != nil {
		return nil, err
	}
	a, err := resolve(m)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", modelPath, err)
	}
	// The base name only, so that the output does not depend on where the
	// generator is run from.
	return render(a, pkg, filepath.Base(modelPath))
}

func run(modelPath, outDir, pkg string) error {
	files, err := generate(modelPath, pkg)
	if err != nil {
		return err
	}
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		path := filepath.Join(outDir, name)
		// Leave an unchanged file alone, so its mtime does not make the
		// build cache or an editor think it changed.
		if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, files[name]) {
			continue
		}
		if err := os.WriteFile(path, files[name], 0o644); err != nil {
			return err
		}
	}
	return nil
}
