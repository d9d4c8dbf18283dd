package filter

import (
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"

	"github.com/phonegate/phonegate/policy"
)

// TestConfigEndpoint: GET /v1/config shows the policy being served (hash,
// files, routes, policies, data sizes, when it loaded) and the last failed
// reload, and never the hash key.
func TestConfigEndpoint(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	srv := New(Options{HashKey: key})
	set := mustCompile(t, testPolicy+"data:\n  disposable_prefixes: [\"+447400\"]\n  receive_sms: {max_age: 730d}\n")
	srv.SetPolicy(set)
	srv.MarkWarm()
	r := serveOn(t, srv)

	var cfg struct {
		Hash     string   `json:"hash"`
		Files    []string `json:"files"`
		LoadedAt string   `json:"loaded_at"`
		Routes   []struct {
			Name, Policy string
			Fields       []string
		} `json:"routes"`
		Policies []struct {
			Name  string
			Rules []struct{ Name, When, Action string }
		} `json:"policies"`
		Data struct {
			DisposablePrefixes int    `json:"disposable_prefixes"`
			ReceiveSMSMaxAge   string `json:"receive_sms_max_age"`
		} `json:"data"`
		DataSets        []struct{ Name, Version string } `json:"data_sets"`
		LastReloadError *struct {
			Problems []string `json:"problems"`
		} `json:"last_reload_error"`
	}
	read := func() string {
		t.Helper()
		body := get(t, r.http+"/v1/config")
		cfg.LastReloadError = nil
		if err := json.Unmarshal([]byte(body), &cfg); err != nil {
			t.Fatalf("%v: %s", err, body)
		}
		return body
	}
	body := read()
	if cfg.Hash != set.Hash || cfg.LoadedAt == "" || len(cfg.Routes) == 0 || cfg.Routes[0].Policy == "" || len(cfg.Routes[0].Fields) == 0 {
		t.Errorf("config %s", body)
	}
	if cfg.Data.DisposablePrefixes < 2 || cfg.Data.ReceiveSMSMaxAge != "17520h0m0s" || len(cfg.DataSets) < 5 || cfg.LastReloadError != nil {
		t.Errorf("data %+v, data sets %v, reload error %v", cfg.Data, cfg.DataSets, cfg.LastReloadError)
	}
	var standard bool
	for _, p := range cfg.Policies {
		standard = standard || p.Name == "standard" && len(p.Rules) > 0 && p.Rules[0].When != ""
	}
	if !standard {
		t.Errorf("policies %+v", cfg.Policies)
	}
	if strings.Contains(body, string(key)) || strings.Contains(body, hex.EncodeToString(key)) {
		t.Error("/v1/config shows the hash key")
	}

	_, err := policy.Compile(policy.Source{Name: "edit.yaml", Data: []byte("version: 1\nroutes:\n  - {name: a, policy: nope}\n")})
	srv.ApplyReload(nil, err)
	read()
	if cfg.Hash != set.Hash || cfg.LastReloadError == nil || len(cfg.LastReloadError.Problems) == 0 || !strings.Contains(cfg.LastReloadError.Problems[0], "edit.yaml:3") {
		t.Errorf("after a failed reload: hash %s, error %+v", cfg.Hash, cfg.LastReloadError)
	}
	srv.ApplyReload(mustCompile(t, testPolicy), nil)
	read()
	if cfg.Hash == set.Hash || cfg.LastReloadError != nil {
		t.Errorf("after a good reload: hash %s, error %+v", cfg.Hash, cfg.LastReloadError)
	}
}
