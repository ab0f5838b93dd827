package main

import (
	"errors"
	"net/http"

	"github.com/sigr-dev/sigr/client"
	"github.com/sigr-dev/sigr/emulator"
	"github.com/sigr-dev/sigr/loadtest"
	"github.com/sigr-dev/sigr/manage"
)

// flagHint returns what to add to err's text so that it names the flag
// that mends it, or "". The libraries say what failed in their own terms
// (Options fields, query parameters); only the command knows its flags.
func flagHint(err error) string {
	var (
		fe *manage.FunctionError
		le *emulator.ListenError
	)
	switch {
	case errors.Is(err, client.ErrReadLimit):
		return "; raise it with --read-limit"
	case errors.Is(err, client.ErrTokenRefused):
		return "; check --connection-string, or the function app's AzureSignalRConnectionString"
	case errors.Is(err, client.ErrCredentialsRefused):
		return "; pass them with --header and --query code=<function key>"
	case errors.As(err, &fe) && fe.HTMLPage:
		return "; if it is the app's login page, pass credentials with --header, or a function key with --query code=<key>"
	case errors.As(err, &fe) && (fe.Status == http.StatusUnauthorized || fe.Status == http.StatusForbidden):
		return "; pass --query code=<function key> or --header"
	case errors.As(err, &le) && le.Server == "service":
		return " with --service-addr"
	case errors.As(err, &le):
		return " with --functions-addr"
	case errors.Is(err, loadtest.ErrNoGroups):
		return "; set --groups"
	case errors.Is(err, loadtest.ErrNoConnectionString):
		return "; pass --connection-string"
	}
	return ""
}

// withFlagHint returns err with flagHint's text at its end; errors.Is
// and errors.As still see through it.
func withFlagHint(err error) error {
	if h := flagHint(err); h != "" {
		return hinted{err: err, hint: h}
	}
	return err
}

type hinted struct {
	err  error
	hint string
}

func (h hinted) Error() string { return h.err.Error() + h.hint }
func (h hinted) Unwrap() error { return h.err }
