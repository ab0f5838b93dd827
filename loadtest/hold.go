package loadtest

import (
	"context"
	"errors"
	"fmt"
)

// HoldResult is what Hold measured.
type HoldResult struct {
	Connections   int          `json:"connections"` // asked for
	Connected     int          `json:"connected"`
	ConnectErrors int          `json:"connectErrors"`
	Dropped       int          `json:"dropped"` // lost while held
	Connect       Percentiles  `json:"connectTime"`
	Errors        []ErrorCount `json:"errors,omitempty"`
}

// Hold opens Connections idle connections (the send options are
// ignored), calls measure while they are all open, and closes them. It is
// the fan-out benchmark's way of asking how many connections a service
// holds and what each costs it: measure reads the service's memory.
func Hold(ctx context.Context, opts Options, measure func(ctx context.Context, connected int)) (*HoldResult, error) {
	if opts.Mode == ToGroup && opts.Groups <= 0 {
		opts.Mode = Broadcast
	}
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	r := &runner{o: o, pl: newPayload(o.UserPrefix, 0), errs: map[string]int{}}
	if err := r.setAccess(); err != nil {
		return nil, fmt.Errorf("loadtest: %w", err)
	}
	r.phase.Store("connecting")
	if o.HTTPClient == nil {
		r.ownHTTP = newTransport(o)
		r.http = r.client(r.ownHTTP)
		defer r.ownHTTP.CloseIdleConnections()
	} else {
		r.http = o.HTTPClient
	}
	stopProgress := r.startProgress()
	conns := r.connectAll(ctx)
	if measure != nil && len(conns) > 0 {
		measure(ctx, len(conns))
	}
	dropped := int(r.dropped.Load())
	r.closeAll(conns)
	stopProgress()
	res := r.result(conns, 0, false)
	hr := &HoldResult{Connections: o.Connections, Connected: res.Connected, ConnectErrors: res.ConnectErrors,
		Dropped: dropped, Connect: res.Connect, Errors: res.Errors}
	if hr.Connected == 0 {
		msg := "no connection could be opened"
		if len(hr.Errors) > 0 {
			msg += ": " + hr.Errors[0].Error
		}
		return hr, errors.New("loadtest: " + msg)
	}
	return hr, nil
}
