package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestShowsThePhonegateHeaders(t *testing.T) {
	srv := httptest.NewServer(handler())
	defer srv.Close()
	req, _ := http.NewRequest("POST", srv.URL+"/signup", strings.NewReader(`{"phone":"+447400123456"}`))
	req.Header.Set("X-Phone-Decision", "allow")
	req.Header.Set("X-Phone-Confidence", "verified")
	req.Header.Set("Authorization", "not shown")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got received
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		t.Fatal(err)
	}
	if len(got.Phone) != 2 || got.Phone["x-phone-decision"] != "allow" || got.Phone["x-phone-confidence"] != "verified" {
		t.Errorf("phonegate headers %v", got.Phone)
	}
	if got.Method != "POST" || got.Path != "/signup" || got.Body != `{"phone":"+447400123456"}` {
		t.Errorf("request %+v", got)
	}
}
