package policy

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.yaml.in/yaml/v3"
)

var updateSchema = flag.Bool("update-schema", false, "rewrite policy/schema.json from the schema types")

const schemaID = "https://raw.githubusercontent.com/phonegate/phonegate/main/policy/schema.json"

// TestSchemaJSON: schema.json is what the schema types give. Run
// `go test ./policy -run SchemaJSON -update-schema` after changing them.
func TestSchemaJSON(t *testing.T) {
	s := map[string]any{
		"$schema":     "https://json-schema.org/draft/2020-12/schema",
		"$id":         schemaID,
		"title":       "phonegate policy file",
		"description": "Routes, policies and data for phonegate, an Envoy ext_authz server that judges phone numbers. Generated from policy/schema.go; see `go doc ./policy`.",
	}
	for k, v := range schemaOf(reflect.TypeFor[schemaFile]()) {
		s[k] = v
	}
	got, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	if *updateSchema {
		if err := os.WriteFile("schema.json", got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile("schema.json")
	if err != nil || !bytes.Equal(got, want) {
		t.Errorf("schema.json is stale (%v): run go test ./policy -run SchemaJSON -update-schema", err)
	}
}

// schemaOf is the JSON Schema of a schema type.
func schemaOf(t reflect.Type) map[string]any {
	if o, ok := reflect.Zero(t).Interface().(interface{ oneOf() []any }); ok {
		var alts []any
		for _, alt := range o.oneOf() {
			alts = append(alts, schemaOf(reflect.TypeOf(alt)))
		}
		return map[string]any{"oneOf": alts}
	}
	s := map[string]any{}
	if p, ok := reflect.Zero(t).Interface().(interface{ pattern() string }); ok {
		s["pattern"] = p.pattern()
	}
	switch t.Kind() {
	case reflect.Pointer:
		return schemaOf(t.Elem())
	case reflect.String:
		s["type"] = "string"
	case reflect.Int:
		s["type"] = "integer"
	case reflect.Bool:
		s["type"] = "boolean"
	case reflect.Slice:
		s["type"], s["items"] = "array", schemaOf(t.Elem())
	case reflect.Map:
		s["type"], s["additionalProperties"] = "object", schemaOf(t.Elem())
	case reflect.Struct:
		props := map[string]any{}
		var required []string
		for f := range t.Fields() {
			name := f.Tag.Get("json")
			if name == "" || name == "-" {
				continue
			}
			p := schemaOf(f.Type)
			if d := f.Tag.Get("doc"); d != "" {
				p["description"] = d
			}
			if e := f.Tag.Get("enum"); e != "" {
				p["enum"] = strings.Split(e, ",")
			}
			if pat := f.Tag.Get("pattern"); pat != "" {
				p["pattern"] = pat
			}
			for _, k := range []string{"minimum", "maximum"} {
				if v := f.Tag.Get(k); v != "" {
					n, _ := strconv.Atoi(v)
					p[k] = n
				}
			}
			if f.Tag.Get("required") == "true" {
				required = append(required, name)
			}
			props[name] = p
		}
		s["type"], s["properties"], s["additionalProperties"] = "object", props, false
		if len(required) > 0 {
			s["required"] = required
		}
	default:
		panic("schema: no JSON Schema for " + t.String())
	}
	return s
}

// TestSchemaKeys: the schema types and the parser accept the same keys in
// every mapping.
func TestSchemaKeys(t *testing.T) {
	types := map[string]reflect.Type{
		"policy file": reflect.TypeFor[schemaFile](), "route": reflect.TypeFor[schemaRoute](),
		"match": reflect.TypeFor[schemaMatch](), "region": reflect.TypeFor[schemaRegionFrom](),
		"data": reflect.TypeFor[schemaData](), "carrier": reflect.TypeFor[schemaCarrier](),
		"country cap": reflect.TypeFor[schemaCountryCap](), "receive_sms": reflect.TypeFor[schemaReceiveSMS](),
		"velocity": reflect.TypeFor[schemaVelocity](), "recent_abuse": reflect.TypeFor[schemaRecentAbuse](),
		"prefix": reflect.TypeFor[schemaPrefixEntry](), "policy": reflect.TypeFor[schemaPolicy](),
		"rule": reflect.TypeFor[schemaRule](),
	}
	for what, keys := range fileKeys {
		typ, ok := types[what]
		if !ok {
			t.Errorf("the parser's %q mapping has no schema type", what)
			continue
		}
		var fields []string
		for f := range typ.Fields() {
			fields = append(fields, f.Tag.Get("json"))
		}
		if !slices.Equal(slices.Sorted(slices.Values(fields)), slices.Sorted(slices.Values(keys))) {
			t.Errorf("%s: schema keys %v, parser keys %v", what, fields, keys)
		}
	}
}

// TestSchemaValidates: the schema accepts every example policy and the
// embedded ones, and rejects files with the mistakes lint refuses that a
// schema can see.
func TestSchemaValidates(t *testing.T) {
	c := jsonschema.NewCompiler()
	doc, err := jsonschema.UnmarshalJSON(mustOpen(t, "schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.AddResource(schemaID, doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile(schemaID)
	if err != nil {
		t.Fatal(err)
	}

	examples, _ := filepath.Glob("../examples/policies/*.yaml")
	builtinFiles, _ := filepath.Glob("builtin/*.yaml")
	for _, f := range slices.Concat(examples, builtinFiles) {
		if IsTestFile(f) {
			continue
		}
		b, _ := os.ReadFile(f)
		if strings.HasPrefix(f, "../examples/") && !strings.HasPrefix(string(b), "# yaml-language-server: $schema="+schemaID+"\n") {
			t.Errorf("%s does not start with the $schema line for editors", f)
		}
		if err := sch.Validate(yamlValue(t, b)); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}

	for _, bad := range []string{
		"version: 1\nroutes:\n  - {name: a, policy: standard, match: {path: /a, methods: POST}}\n", // methods is a list
		"version: 1\npolicies:\n  - name: p\n    rules:\n      - {when: 'true', action: block}\n",  // unknown action
		"version: 1\nroutes:\n  - {name: a, polcy: standard}\n",                                    // misspelt key
		"version: 1\nroutes:\n  - {name: a, policy: standard, region: USA}\n",                      // not a region
		"version: 2\n", // version
		"version: 1\ndata:\n  disposable_prefixes: [\"447400\"]\n", // no +
		"version: 1\npolicies:\n  - name: p\n    rules:\n      - {when: 'true', action: reject, status: 302}\n",
		"version: 1\nvelocity: {window: 10 minutes}\n",
	} {
		if err := sch.Validate(yamlValue(t, []byte(bad))); err == nil {
			t.Errorf("the schema accepts %q", bad)
		}
		if _, err := Compile(Source{Name: "bad.yaml", Data: []byte(bad)}); err == nil {
			t.Errorf("lint accepts %q", bad)
		}
	}
}

func mustOpen(t *testing.T, name string) *os.File {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// yamlValue reads YAML as the JSON values a schema validates.
func yamlValue(t *testing.T, b []byte) any {
	t.Helper()
	var v any
	if err := yaml.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	j, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	out, err := jsonschema.UnmarshalJSON(bytes.NewReader(j))
	if err != nil {
		t.Fatal(err)
	}
	return out
}
