// Package srtest is an in-memory schema registry that speaks the part of
// Confluent's REST contract Orchard and its integrators use: register a
// version, look a schema up by id, list subjects and versions, get and set
// a subject's compatibility. Response bodies and error codes follow
// Confluent's API reference (40401 subject not found, 40403 schema not
// found, 409 incompatible, 42201 invalid schema, 42203 invalid level).
// It backs tests, as kfake backs them for Kafka.
package srtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// Registry is one registry's state. Check decides BACKWARD compatibility
// (the caller passes schemas.CheckBackward, keeping this package free of
// Orchard's imports); nil admits everything.
type Registry struct {
	Check func(prev, next string) error

	mu       sync.Mutex
	schemas  []string         // id-1 -> schema text; one id per distinct text
	versions map[string][]int // subject -> ids of its versions
	config   map[string]string
	lookups  map[int]int // id -> GET /schemas/ids/{id} calls
}

// New returns an empty registry whose global compatibility is BACKWARD
// (Confluent's default).
func New(check func(prev, next string) error) *Registry {
	return &Registry{Check: check, versions: map[string][]int{}, config: map[string]string{}, lookups: map[int]int{}}
}

// Subjects lists the registered subjects, sorted.
func (r *Registry) Subjects() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]string, 0, len(r.versions))
	for s := range r.versions {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

// Versions returns the ids of a subject's versions, oldest first.
func (r *Registry) Versions(subject string) []int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]int(nil), r.versions[subject]...)
}

// Compatibility is a subject's own level ("" when none is set).
func (r *Registry) Compatibility(subject string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.config[subject]
}

// Lookups counts GET /schemas/ids/{id} calls for an id.
func (r *Registry) Lookups(id int) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.lookups[id]
}

// Schema returns the text of an id ("" when unknown).
func (r *Registry) Schema(id int) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if id < 1 || id > len(r.schemas) {
		return ""
	}
	return r.schemas[id-1]
}

// Register adds a version to a subject as POST /subjects/{s}/versions does.
func (r *Registry) Register(subject, schema string) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !json.Valid([]byte(schema)) {
		return 0, &apiError{422, 42201, "Invalid schema"}
	}
	id := 0
	for i, s := range r.schemas {
		if s == schema {
			id = i + 1
		}
	}
	vs := r.versions[subject]
	for _, v := range vs {
		if v == id {
			return id, nil // already a version of this subject
		}
	}
	level := r.config[subject]
	if level == "" {
		level = r.config[""]
	}
	if level == "" {
		level = "BACKWARD"
	}
	if len(vs) > 0 && level == "BACKWARD" && r.Check != nil {
		if err := r.Check(r.schemas[vs[len(vs)-1]-1], schema); err != nil {
			return 0, &apiError{409, 409, fmt.Sprintf("Schema being registered is incompatible with an earlier schema for subject %q, details: [%v]", subject, err)}
		}
	}
	if id == 0 {
		r.schemas = append(r.schemas, schema)
		id = len(r.schemas)
	}
	r.versions[subject] = append(vs, id)
	return id, nil
}

type apiError struct {
	status, code int
	msg          string
}

func (e *apiError) Error() string { return e.msg }

var levels = map[string]bool{"NONE": true, "BACKWARD": true, "BACKWARD_TRANSITIVE": true, "FORWARD": true,
	"FORWARD_TRANSITIVE": true, "FULL": true, "FULL_TRANSITIVE": true}

// ServeHTTP answers the REST calls.
func (r *Registry) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	w.Header().Set("Content-Type", "application/vnd.schemaregistry.v1+json")
	path := strings.Trim(req.URL.Path, "/")
	parts := strings.Split(path, "/")
	reply := func(v any) { _ = json.NewEncoder(w).Encode(v) }
	fail := func(e *apiError) {
		w.WriteHeader(e.status)
		reply(map[string]any{"error_code": e.code, "message": e.msg})
	}
	switch {
	case req.Method == http.MethodPost && len(parts) == 3 && parts[0] == "subjects" && parts[2] == "versions":
		var body struct {
			Schema     string `json:"schema"`
			SchemaType string `json:"schemaType"`
		}
		if err := json.NewDecoder(http.MaxBytesReader(w, req.Body, 1<<20)).Decode(&body); err != nil {
			fail(&apiError{422, 42201, "Invalid schema: " + err.Error()})
			return
		}
		if body.SchemaType != "" && body.SchemaType != "AVRO" {
			fail(&apiError{422, 42201, "Invalid schema type " + body.SchemaType})
			return
		}
		id, err := r.Register(parts[1], body.Schema)
		if err != nil {
			fail(err.(*apiError))
			return
		}
		reply(map[string]int{"id": id})
	case req.Method == http.MethodGet && len(parts) == 3 && parts[0] == "schemas" && parts[1] == "ids":
		id, _ := strconv.Atoi(parts[2])
		r.mu.Lock()
		r.lookups[id]++
		r.mu.Unlock()
		s := r.Schema(id)
		if s == "" {
			fail(&apiError{404, 40403, fmt.Sprintf("Schema %s not found", parts[2])})
			return
		}
		reply(map[string]string{"schema": s})
	case req.Method == http.MethodGet && len(parts) == 1 && parts[0] == "subjects":
		reply(r.Subjects())
	case req.Method == http.MethodGet && len(parts) >= 3 && parts[0] == "subjects" && parts[2] == "versions":
		ids := r.Versions(parts[1])
		if len(ids) == 0 {
			fail(&apiError{404, 40401, fmt.Sprintf("Subject '%s' not found.", parts[1])})
			return
		}
		if len(parts) == 3 {
			vs := make([]int, len(ids))
			for i := range vs {
				vs[i] = i + 1
			}
			reply(vs)
			return
		}
		v := len(ids)
		if parts[3] != "latest" {
			n, err := strconv.Atoi(parts[3])
			if err != nil || n < 1 || n > len(ids) {
				fail(&apiError{404, 40402, "Version " + parts[3] + " not found."})
				return
			}
			v = n
		}
		reply(map[string]any{"subject": parts[1], "version": v, "id": ids[v-1], "schema": r.Schema(ids[v-1])})
	case len(parts) == 2 && parts[0] == "config" && req.Method == http.MethodPut:
		var body struct {
			Compatibility string `json:"compatibility"`
		}
		_ = json.NewDecoder(http.MaxBytesReader(w, req.Body, 1<<16)).Decode(&body)
		if !levels[body.Compatibility] {
			fail(&apiError{422, 42203, "Invalid compatibility level. Valid values are none, backward, forward, full, backward_transitive, forward_transitive, and full_transitive"})
			return
		}
		r.mu.Lock()
		r.config[parts[1]] = body.Compatibility
		r.mu.Unlock()
		reply(map[string]string{"compatibility": body.Compatibility})
	case len(parts) == 2 && parts[0] == "config" && req.Method == http.MethodGet:
		level := r.Compatibility(parts[1])
		if level == "" {
			fail(&apiError{404, 40408, fmt.Sprintf("Subject '%s' does not have subject-level compatibility configured", parts[1])})
			return
		}
		reply(map[string]string{"compatibilityLevel": level})
	default:
		fail(&apiError{404, 404, "HTTP 404 Not Found"})
	}
}
