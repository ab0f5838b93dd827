package protocol

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// Negotiate bodies from ASP.NET Core's TransportProtocols.md, the service,
// the Functions binding and the issue trackers.
const (
	negotiateV1 = `{"connectionToken":"05265228-1e2c-46c5-82a1-6a5bcc3f0143","connectionId":"807809a5-31bf-470d-9e23-afaee35d8a0d","negotiateVersion":1,"availableTransports":[{"transport":"WebSockets","transferFormats":["Text","Binary"]},{"transport":"ServerSentEvents","transferFormats":["Text"]},{"transport":"LongPolling","transferFormats":["Text","Binary"]}]}`
	negotiateV0 = `{"connectionId":"807809a5-31bf-470d-9e23-afaee35d8a0d","availableTransports":[{"transport":"WebSockets","transferFormats":["Text","Binary"]},{"transport":"ServerSentEvents","transferFormats":["Text"]}]}`
	redirect    = `{"url": "https://myapp.com/chat", "accessToken": "accessToken"}`
	azureRedir  = `{"negotiateVersion":0,"url":"https://x.service.signalr.net/client/?hub=chathub&asrs.op=%2Fchat&negotiateVersion=1&asrs_request_id=ftgdb1cBAAA%3D","accessToken":"eyJhbGciOiJIUzI1NiJ9.e30.x","availableTransports":[]}`
	classic     = `{"Url":"/signalr","ConnectionToken":"AQAAANCMnd8BFdERjHoAwE","ConnectionId":"2e7e1c8a-1b8b-4a3e-9a0e-3b1c5b2f6d11","KeepAliveTimeout":20.0,"DisconnectTimeout":30.0,"ConnectionTimeout":110.0,"TryWebSockets":true,"ProtocolVersion":"1.5","TransportConnectTimeout":5.0,"LongPollDelay":0.0}`
)

func TestParseNegotiateV1(t *testing.T) {
	r, err := ParseNegotiateResponse([]byte(negotiateV1))
	if err != nil {
		t.Fatal(err)
	}
	want := NegotiateResponse{
		ConnectionID:     "807809a5-31bf-470d-9e23-afaee35d8a0d",
		ConnectionToken:  "05265228-1e2c-46c5-82a1-6a5bcc3f0143",
		NegotiateVersion: 1,
		AvailableTransports: []AvailableTransport{
			{TransportWebSockets, []string{"Text", "Binary"}},
			{TransportServerSentEvents, []string{"Text"}},
			{TransportLongPolling, []string{"Text", "Binary"}},
		},
	}
	if !reflect.DeepEqual(r, want) {
		t.Fatalf("got %+v", r)
	}
	if r.IsRedirect() {
		t.Error("IsRedirect on a connection response")
	}
	for _, tr := range []string{TransportWebSockets, TransportServerSentEvents, TransportLongPolling} {
		if !r.HasTransport(tr) {
			t.Errorf("HasTransport(%s) = false", tr)
		}
	}
}

func TestParseNegotiateV0(t *testing.T) {
	r, err := ParseNegotiateResponse([]byte(negotiateV0))
	if err != nil {
		t.Fatal(err)
	}
	// Version 0: the connectionId stands in for the token.
	if r.NegotiateVersion != 0 || r.ConnectionToken != r.ConnectionID || r.ConnectionID == "" {
		t.Fatalf("got %+v", r)
	}
	if r.HasTransport(TransportLongPolling) {
		t.Error("HasTransport(LongPolling) for a transport not offered")
	}
	// A transport offered without Text cannot carry JSON.
	r, _ = ParseNegotiateResponse([]byte(`{"connectionId":"c","availableTransports":[{"transport":"WebSockets","transferFormats":["Binary"]}]}`))
	if r.HasTransport(TransportWebSockets) {
		t.Error("HasTransport(WebSockets) with only Binary")
	}
}

func TestParseNegotiateRedirect(t *testing.T) {
	cases := []struct{ body, url, token string }{
		{redirect, "https://myapp.com/chat", "accessToken"},
		{azureRedir, "https://x.service.signalr.net/client/?hub=chathub&asrs.op=%2Fchat&negotiateVersion=1&asrs_request_id=ftgdb1cBAAA%3D", "eyJhbGciOiJIUzI1NiJ9.e30.x"},
		// A Functions isolated worker returning the POCO: PascalCase.
		{`{"Url":"http://127.0.0.1:8888/client/?hub=chat","AccessToken":"tok"}`, "http://127.0.0.1:8888/client/?hub=chat", "tok"},
		{`{"URL":"http://h/client/?hub=chat","ACCESSTOKEN":"t2","tokenLifetimeSeconds":3600}`, "http://h/client/?hub=chat", "t2"},
		{"\n\t " + redirect + "\r\n", "https://myapp.com/chat", "accessToken"},
	}
	for _, c := range cases {
		r, err := ParseNegotiateResponse([]byte(c.body))
		if err != nil {
			t.Errorf("%s: %v", c.body, err)
			continue
		}
		if !r.IsRedirect() || r.URL != c.url || r.AccessToken != c.token {
			t.Errorf("%s: got %+v", c.body, r)
		}
	}
	r, _ := ParseNegotiateResponse([]byte(`{"url":"u","accessToken":"t","tokenLifetimeSeconds":3600}`))
	if r.TokenLifetimeSeconds != 3600 {
		t.Errorf("tokenLifetimeSeconds = %d", r.TokenLifetimeSeconds)
	}
}

func TestParseNegotiateErrorAndStateful(t *testing.T) {
	r, err := ParseNegotiateResponse([]byte(`{"error": "This connection is not allowed."}`))
	if err != nil || r.Error != "This connection is not allowed." {
		t.Fatalf("error body: %+v %v", r, err)
	}
	r, err = ParseNegotiateResponse([]byte(`{"error":"The client requested version '0', but the server does not support this version."}`))
	if err != nil || !strings.Contains(r.Error, "version '0'") {
		t.Fatalf("version error body: %+v %v", r, err)
	}
	r, err = ParseNegotiateResponse([]byte(`{"connectionId":"a","connectionToken":"b","negotiateVersion":1,"useStatefulReconnect":true,"availableTransports":[]}`))
	if err != nil || !r.UseStatefulReconnect || r.ConnectionToken != "b" {
		t.Fatalf("stateful: %+v %v", r, err)
	}
}

func TestParseNegotiateClassicServer(t *testing.T) {
	_, err := ParseNegotiateResponse([]byte(classic))
	if err == nil || err.Error() != ErrClassicServer {
		t.Fatalf("classic server: %v", err)
	}
	if !strings.HasPrefix(ErrClassicServer, "Detected a connection attempt to an ASP.NET SignalR Server.") {
		t.Fatal("ErrClassicServer text changed")
	}
	// Detected even when another member has a type the Core shape rejects.
	_, err = ParseNegotiateResponse([]byte(`{"ProtocolVersion":"1.2","Url":42}`))
	if err == nil || err.Error() != ErrClassicServer {
		t.Fatalf("classic server with odd fields: %v", err)
	}
}

func TestParseNegotiateNotJSON(t *testing.T) {
	bodies := []string{
		"<!DOCTYPE html><html><head><title>404 Not Found</title></head><body>The resource you are looking for has been removed.</body></html>",
		"",
		"   ",
		`["url"]`,
		`{"url":`,
		"Hello \x1b[31mred\x1b[0m",
	}
	for _, b := range bodies {
		_, err := ParseNegotiateResponse([]byte(b))
		var nj *NotJSONError
		if !errors.As(err, &nj) {
			t.Errorf("ParseNegotiateResponse(%q) = %v, want NotJSONError", b, err)
			continue
		}
		if len(nj.Body) > 64 {
			t.Errorf("preview of %d bytes", len(nj.Body))
		}
		if strings.ContainsRune(err.Error(), 0x1b) {
			t.Errorf("error text carries a raw escape: %q", err.Error())
		}
	}
	_, err := ParseNegotiateResponse([]byte(`{"url":42}`))
	var nj *NotJSONError
	if err == nil || errors.As(err, &nj) || !strings.Contains(err.Error(), "wrong type") {
		t.Errorf("wrong field type: %v", err)
	}
}
