package protocol

import (
	"bytes"
	"mime"
	"strings"
)

// HTMLPageHint says what a web page in answer to an API call usually
// means and what to try. Negotiate, send and group calls all end with it.
const HTMLPageHint = "an HTML page usually means the URL points at a web site or a login page rather than the function app's API; pass the base URL that ends in /api"

// IsHTMLPage reports whether an HTTP answer is a web page rather than what
// an API call answers (JSON, or nothing): its Content-Type is text/html,
// or its body starts with '<'. A function app behind App Service
// Authentication answers so with its login page, which an HTTP client
// reaches by following the redirect, status 200 and all.
func IsHTMLPage(contentType string, body []byte) bool {
	mt, _, _ := mime.ParseMediaType(contentType)
	return strings.EqualFold(mt, "text/html") || bytes.HasPrefix(bytes.TrimSpace(body), []byte("<"))
}
