// Package policy is the YAML side of phonegate: what operators write to say
// which requests are checked, where their phone numbers are, and what to do
// with each number.
//
// # Schema (version 1)
//
//	version: 1
//	routes:                        # tried in order; the first match is used
//	  - name: signup
//	    match:                     # every part is optional
//	      path: /signup            # exact path (a trailing / too); or
//	      path_prefix: /api/       #   a prefix; or
//	      path_regex: /v[0-9]+/.*  #   an RE2 regex matching the whole path
//	      methods: [POST]
//	      host: "*.example.com"    # exact, or a leading wildcard; port ignored
//	    fields: [phone, user.phone, "contacts[*].phone"]   # or [auto]
//	    region: US                 # hint for numbers without a country code, or
//	    # region: {header: cf-ipcountry, default: US}      # from a header, or
//	    # region: {field: address.country}                 # from a body field
//	    policy: standard           # a preset or a policy below
//	    dry_run: false             # true: decide and report, but always allow
//	    metadata_signals: false    # true: this request's IP and velocity signals in the metadata too
//	    metadata_details: false    # true: field, numbers_found and disposable in the metadata too
//	    on_no_number: allow        # default allow
//	    on_partial_body: reject    # Envoy cut the body; default reject
//	    on_unparsable_body: reject # default reject
//	policies:
//	  - name: strict-signup
//	    rules:                     # the first rule whose `when` holds decides
//	      - name: premium
//	        when: insight.line_type == "premium_rate"   # CEL, must give a bool
//	        action: reject         # allow, tag or reject
//	        status: 403            # reject only, 4xx, default 403
//	        message: premium-rate numbers cannot sign up
//	      - when: insight.confidence == "low"
//	        action: tag
//	        tags: [review]
//	data:                          # extends the engine's embedded tables
//	  disposable_prefixes: ["+447537 1", {prefix: "+3361234", source: ticket 42}]
//	  fictitious_prefixes: ["+15550100"]
//	  carriers: [{name: Lycamobile, label: uncertain, virtual: false, disposable: false}]
//	  country_caps: [{region: NG, cap: uncertain}]
//	  receive_sms:                 # the embedded list of numbers seen on receive-SMS websites
//	    max_age: 365d              # a sighting older than this (before the list's newest date) only caps at uncertain
//	    exempt: ["+44 7700 900123"] # numbers or prefixes the list never marks
//	velocity:                      # one file at most; defaults shown
//	  window: 10m                  # sliding window of the counts
//	  max_numbers: 10000           # numbers remembered (about 700 B each), and as many groups
//	  range_digits: 4              # a number's range: its E.164 less these last digits
//	  recent_abuse: {seen: 20, distinct_ips: 5, distinct_networks: 5}
//	lists:                         # name: file of numbers and prefixes (see Lists)
//	  qa: qa-numbers.txt
//
// Paths are compared with the request's path as [NormalizePath] leaves it
// (query dropped, dot segments removed, slashes merged, unreserved
// percent-encodings decoded), ignoring case; a route's own paths must be
// written normalized. Regions are ISO 3166-1 alpha-2 codes that
// libphonenumber has metadata for ("UK" is refused: GB); a region from a
// header or body field that is not one is ignored for the route's default.
//
// # Where numbers are found
//
// A body, whatever its format, is a tree of keys: JSON objects and arrays;
// form and multipart names in the bracket convention (user[phone],
// phone[], contacts[0][phone], contacts[0].phone) parsed into the same paths;
// the arguments of every field of a GraphQL document, under the key
// "variables" beside the request's own variables (an argument $v takes the
// variable's value and default). Each entry of `fields` is [AutoField] or a
// path, by this grammar ([ParseField]):
//
//	field = "auto" / path
//	path  = key *( "." key / "[*]" )
//	key   = 1*( letter / digit / "_" / "-" )
//
// A path names the values under its keys from the top of the body, keys
// compared ignoring case (every case twin counts, as Go's encoding/json binds
// any of them), arrays and empty keys passed through (so "[*]" marks an
// array for the reader, and contacts.phone is contacts[*].phone). `auto`
// names keys whose words (split at _ - . brackets, camelCase and digits) end
// in a phone word (phone, mobile, tel, telephone, msisdn, cell, cellphone,
// whatsapp, sms, ...) after trailing qualifiers (number, no, e164, home, work,
// primary, digits); under auto a value without a digit is not a number, and
// when no key is found, numbers written in free text are.
//
// A named key holding an object or array yields the values inside it; a
// country field there (country, country_code, iso2, region, dial_code) is the
// region hint of the values beside it, an area_code is joined to them, and
// fields describing the number (type, id, ext, verified, ...) and values
// without a digit are skipped. A name/value attribute object
// ({"Name": "phone_number", "Value": "..."}) counts as the key it names.
// Empty and blank values are no number, like null, true and false. Every
// value found counts and the strictest decision wins.
//
// Envoy may name a route directly with the context_extensions key
// phonegate-route; otherwise the first route whose match fits is used. A
// number that no rule catches is allowed.
//
// Rules are CEL (cel.dev/cel-go) over three typed variables: `insight`, the
// number's [insight.Insight] with the field names of its JSON form
// (insight.confidence, insight.country.iso2, insight.risk_score,
// insight.warnings, and this request's insight.ip.match and
// insight.velocity: seen, distinct_ips, distinct_networks, range_seen,
// range_numbers, ip_numbers, network_numbers, country_seen, window, source,
// recent_abuse; [InsightFields] lists them), `request` (method, path, host,
// headers, client_ip) and `lists` (see Lists). They are declared with
// their types, so a rule is type-checked at load: a field that does not
// exist, a comparison of a number with a string, or a condition that is not a
// bool does not load. Numbers of different kinds compare as numbers
// (insight.confidence_score > 0). A header the request lacks reads as ""
// (`"x-h" in request.headers` says whether it was sent), and a number without
// request signals has insight.ip.match "unknown" and zero velocity, so the
// common rules cannot fail at run time. One that still does (an index past
// the end of a list, say) is a fault, not a decision: a [RuleError] naming
// the policy, the rule and the kind of failure, never a value the rule read,
// counted in phonegate_rule_errors_total. Rules are compiled once at load.
//
// Entries of `data:` take precedence over the embedded tables of package
// insight; a change to them gives the server a new engine (and an empty
// cache), since cached insights were scored with the old tables.
//
// # Loading and reloading
//
// [Load] reads a file, or every *.yaml and *.yml of a directory in name order
// (names may be defined once across them), and the list files they name. A
// [Watcher] watches the directory (and the lists' directories)
// (never only the file: a Kubernetes ConfigMap updates by swapping its ..data
// symlink) and reloads a debounce after the last change; a reload that fails
// to compile is reported and the caller keeps the last good set.
//
// # Presets
//
// high-trust, standard, enrichment and otp-send are built in
// (builtin/presets.yaml, where each threshold of otp-send cites its source)
// and may be named by any route; a policy of the same name replaces a
// preset. otp-send is for the endpoint that texts a verification code: it
// refuses premium-rate, shared-cost and fictitious numbers and SMS pumping
// (10 distinct numbers of one range, or 20 from one client address, in the
// velocity window), and tags the uncertain.
//
// # Lists
//
// A `lists:` section names files of numbers and prefixes an operator
// maintains (test numbers, the fraud team's blocks), relative to the policy
// file, so that a ConfigMap or Secret mounted beside it can hold them:
//
//	lists:
//	  qa: qa-numbers.txt           # beside this file
//	  blocked: ../secret/blocked.txt
//
// A list file has one entry a line: "+" and 2 to 15 digits for a number,
// with a trailing "*" for a prefix ("+3361234*"); "#" starts a comment. Rules
// read a list with CEL's `in`, which holds when the list has the number or a
// prefix of it:
//
//	rules:
//	  - when: insight.e164 in lists.qa      # before the velocity rules
//	    action: allow
//	  - when: insight.e164 in lists.blocked
//	    action: reject
//
// A list holds at most [MaxListEntries] entries in at most [MaxListBytes]
// bytes, a set at most [MaxLists] lists; an entry that is not a number or
// prefix, or a list over a bound, is refused at load at the list file's
// file:line:col (errors never repeat an entry: it may be a number), and a
// rule naming a list no file defines at the rule. List names are CEL names
// (lower case, digits, _). The lists' bytes are part of the set's hash, and
// the [Watcher] watches their directories too, so a changed list reloads
// the policy like a changed policy file.
//
// # Errors
//
// [Compile] and [Load] check everything before anything serves: unknown keys
// (with the list of known ones), wrong types, empty or unknown actions, CEL
// that does not compile, reads an unknown field (with the list of known ones)
// or does not give a bool, field paths outside the grammar, regions
// libphonenumber does not know, paths that are not normalized, a second YAML
// document in a file, duplicate names, a route naming a missing policy. Each problem is an [*Error] at file:line:col, and all of them
// come back together as an [ErrorList].
//
// # JSON Schema
//
// schema.json is the format as a JSON Schema, generated from the types in
// schema.go (go test ./policy -run SchemaJSON -update-schema); a policy file
// that starts with
//
//	# yaml-language-server: $schema=https://raw.githubusercontent.com/phonegate/phonegate/main/policy/schema.json
//
// is completed and checked by editors that run the YAML language server.
// The schema sees shapes, names and enums; only the parser checks CEL,
// regions and paths.
//
// # Tests
//
// Policy test files (*_test.yaml, see [IsTestFile]) sit beside policies and
// are left out when a directory is loaded. Each names a policy and lists
// requests with the decision each must get:
//
//	policy: signup.yaml          # file or directory, relative to this file (default: this file's directory)
//	cases:
//	  - name: voip is tagged for review
//	    request:
//	      method: POST           # default POST
//	      path: /api/register
//	      host: signup.example.com
//	      headers: {content-type: application/json, x-forwarded-for: 203.0.113.7}
//	      body: '{"phone": "+44 56 1234 5678"}'
//	      context_extensions: {phonegate-route: register}
//	    expect:                  # every key optional; those given must match
//	      decision: tag          # allow | tag | reject | pass (no route matched)
//	      tags: [review]         # at least these
//	      status: 403
//	      route: register
//	      rule: voip
//	      reason: rule
//
// `phonegate test` runs them (package policytest) through the code Envoy's
// Check runs; [Route.Explain] and [Set.RouteWhy] give `phonegate eval` its
// account of a decision.
//
// This package knows nothing of gRPC or Envoy; package filter builds the
// [Request] it reads.
package policy
