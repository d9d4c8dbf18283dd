package filter

import (
	"maps"
	"net/http"
	"slices"
	"time"

	"github.com/phonegate/phonegate/insight"
	"github.com/phonegate/phonegate/policy"
)

// configView is what GET /v1/config shows of the policy being served: enough
// to tell which policy a replica runs and what it does, and nothing secret
// (no hash key, no list contents).
type configView struct {
	Hash            string            `json:"hash"`
	Source          string            `json:"source"`
	Files           []string          `json:"files"`
	LoadedAt        time.Time         `json:"loaded_at"`
	Routes          []configRoute     `json:"routes"`
	Policies        []configPolicy    `json:"policies"`
	Data            configData        `json:"data"`
	Lists           map[string]int    `json:"lists"` // name -> entries
	Velocity        configVelocity    `json:"velocity"`
	DataSets        []insight.DataSet `json:"data_sets"`
	LastReloadError *reloadError      `json:"last_reload_error"`
}

type configRoute struct {
	Name       string   `json:"name"`
	Path       string   `json:"path,omitempty"`
	PathPrefix string   `json:"path_prefix,omitempty"`
	PathRegex  string   `json:"path_regex,omitempty"`
	Methods    []string `json:"methods,omitempty"`
	Host       string   `json:"host,omitempty"`
	Fields     []string `json:"fields"`
	Policy     string   `json:"policy"`
	DryRun     bool     `json:"dry_run"`
}

type configPolicy struct {
	Name  string       `json:"name"`
	Rules []configRule `json:"rules"`
}

type configRule struct {
	Name   string        `json:"name"`
	When   string        `json:"when"`
	Action policy.Action `json:"action"`
}

// configData counts the engine's tables: the embedded rows plus the
// policy's own data section.
type configData struct {
	Carriers           int    `json:"carriers"`
	DisposablePrefixes int    `json:"disposable_prefixes"`
	CountryCaps        int    `json:"country_caps"`
	FictitiousPrefixes int    `json:"fictitious_prefixes"`
	ReceiveSMSMaxAge   string `json:"receive_sms_max_age"`
	ReceiveSMSExempt   int    `json:"receive_sms_exempt"`
}

type configVelocity struct {
	Window      string `json:"window"`
	MaxNumbers  int    `json:"max_numbers"`
	RangeDigits int    `json:"range_digits"`
}

func (s *Server) serveConfig(w http.ResponseWriter, r *http.Request) {
	cur := s.current.Load()
	if cur == nil {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "no policy loaded yet"})
		return
	}
	set := cur.set
	v := configView{
		Hash: set.Hash, Source: set.Source, Files: set.Files, LoadedAt: cur.loadedAt.UTC(),
		Routes: []configRoute{}, Policies: []configPolicy{}, Lists: map[string]int{},
		DataSets: insight.DataSets(), LastReloadError: s.lastReloadError.Load(),
	}
	if v.Files == nil {
		v.Files = []string{}
	}
	for _, rt := range set.Routes {
		c := configRoute{Name: rt.Name, Path: rt.Match.Path, PathPrefix: rt.Match.PathPrefix, Methods: rt.Match.Methods,
			Host: rt.Match.Host, Policy: rt.Policy.Name, DryRun: rt.DryRun, Fields: []string{}}
		if rt.Match.PathRegex != nil {
			c.PathRegex = rt.Match.PathRegex.String()
		}
		for _, f := range rt.Fields {
			c.Fields = append(c.Fields, f.String())
		}
		v.Routes = append(v.Routes, c)
	}
	for _, name := range slices.Sorted(maps.Keys(set.Policies)) {
		p := configPolicy{Name: name, Rules: []configRule{}}
		for _, rule := range set.Policies[name].Rules {
			p.Rules = append(p.Rules, configRule{Name: rule.Name, When: rule.When, Action: rule.Action})
		}
		v.Policies = append(v.Policies, p)
	}
	d := insight.DefaultData().With(set.Data)
	v.Data = configData{
		Carriers: len(d.Carriers), DisposablePrefixes: len(d.DisposablePrefixes), CountryCaps: len(d.CountryCaps),
		FictitiousPrefixes: len(d.Fictitious), ReceiveSMSExempt: len(d.ReceiveSMSExempt),
		ReceiveSMSMaxAge: max(d.ReceiveSMSMaxAge, 0).String(),
	}
	if d.ReceiveSMSMaxAge == 0 {
		v.Data.ReceiveSMSMaxAge = insight.DefaultReceiveSMSMaxAge.String()
	}
	for name, l := range set.Lists {
		v.Lists[name] = l.Len()
	}
	vc := set.Velocity.WithDefaults()
	v.Velocity = configVelocity{Window: vc.Window.String(), MaxNumbers: vc.MaxNumbers, RangeDigits: vc.RangeDigits}
	writeJSON(w, http.StatusOK, v)
}
