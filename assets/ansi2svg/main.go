package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
)

func main() {
	capture, err := io.ReadAll(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "ansi2svg: reading the capture from standard input:", err)
		os.Exit(1)
	}
	out := bufio.NewWriter(os.Stdout)
	render(out, parse(string(capture)))
	if err := out.Flush(); err != nil {
		fmt.Fprintln(os.Stderr, "ansi2svg: writing the SVG:", err)
		os.Exit(1)
	}
}
