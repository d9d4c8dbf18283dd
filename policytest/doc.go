// Package policytest runs policy test files: requests with the decision
// each must get, answered by a filter.Server in process through the same
// code as Envoy's Check (route, extraction, insight, velocity, rules). It is
// what `phonegate test` runs, and what the example policies' Go test runs.
//
// A test file is YAML named *_test.yaml (a policy directory leaves such
// files out):
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
// Each file gets a server of its own with a fresh velocity store, and its
// cases run in order, so a file can show a velocity rule firing on the
// third sighting of a number. The client address is 192.0.2.1 unless a case
// sets request.client_ip; x-forwarded-for is read with one trusted hop.
package policytest
