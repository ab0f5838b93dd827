// Command ansi2svg renders a terminal capture with SGR colours (the output
// of `tmux capture-pane -e -p`) as an SVG image, so the README screenshot
// comes from a real run rather than a mock-up.
//
//	tmux capture-pane -e -p -t demo | go run ./assets/ansi2svg > assets/screenshot.svg
//
// No maintained Go library renders a capture as SVG without the v1 Charm
// stack (freeze, the closest, is a command built on it), so this one is
// kept small: Ultraviolet, which Bubble Tea v2 draws with, reads the
// capture into cells (SGR styles, grapheme clusters and their widths), and
// render draws the cells.
package main
