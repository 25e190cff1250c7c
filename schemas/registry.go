package schemas

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/twmb/franz-go/pkg/sr"
)

// SubjectStrategy names the registry subject a schema is registered under:
// the two strategies Confluent's serializers offer and users meet.
type SubjectStrategy string

const (
	// RecordName registers each record type once, under its full name
	// (orchard.LeadIntake), whatever topic carries it. The default.
	RecordName SubjectStrategy = "record"
	// TopicName registers the value schema of each topic under
	// "<topic>-value" (Confluent's default, what Kafka Connect expects).
	TopicName SubjectStrategy = "topic"
)

// ParseSubjectStrategy reads a --schema-subjects value.
func ParseSubjectStrategy(s string) (SubjectStrategy, error) {
	switch SubjectStrategy(s) {
	case RecordName, TopicName:
		return SubjectStrategy(s), nil
	case "":
		return RecordName, nil
	}
	return "", fmt.Errorf("schema subjects %q: want %q (one subject per record type, orchard.LeadIntake) or %q (one per topic, leads.intake-value)", s, RecordName, TopicName)
}

// Registry configures the schema-registry wire format.
type Registry struct {
	URL      string          // Confluent-compatible registry; "" = plain Avro, no framing
	Subjects SubjectStrategy // "" = RecordName
	// Topics maps each topic to the schema file of the records it carries
	// (topics.Set.ValueSchemas); TopicName needs it to name the subjects.
	Topics map[string]string
	// ReadOnly registers nothing: the serde only decodes, by the schema id
	// in each record (for tools such as `orchard topics tail`).
	ReadOnly bool
}

// Compatibility is the level set on every subject Orchard registers: a new
// schema version must read everything written with the versions before it.
const Compatibility = sr.CompatBackward

// subjects maps the subject of every schema under the strategy to its file.
func (r Registry) subjects() (map[string]string, error) {
	out := map[string]string{}
	switch r.Subjects {
	case "", RecordName:
		for _, s := range All() {
			out[s.Name] = s.File
		}
	case TopicName:
		if len(r.Topics) == 0 {
			return nil, fmt.Errorf("schema registry: the topic subject strategy needs the topic of every record type")
		}
		for topic, file := range r.Topics {
			if ByFile(file) == nil {
				return nil, fmt.Errorf("schema registry: topic %s carries %s, which is not an Orchard schema", topic, file)
			}
			out[topic+"-value"] = file
		}
	default:
		_, err := ParseSubjectStrategy(string(r.Subjects))
		return nil, err
	}
	return out, nil
}

// SubjectNames returns the subject names the strategy registers, sorted.
func (r Registry) SubjectNames() ([]string, error) {
	m, err := r.subjects()
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(m))
	for s := range m {
		names = append(names, s)
	}
	sort.Strings(names)
	return names, nil
}

// register sets BACKWARD on each subject and registers its schema once at
// start; the ids are cached for Encode. Registering a schema the subject
// already has returns its id (idempotent across restarts and instances);
// an incompatible change is refused by the registry and fails the start.
func (s *Serde) register(ctx context.Context, r Registry) error {
	subjects, err := r.subjects()
	if err != nil {
		return err
	}
	names, _ := r.SubjectNames()
	for _, subject := range names {
		sch := ByFile(subjects[subject])
		res := s.reg.SetCompatibility(ctx, sr.SetCompatibility{Level: Compatibility}, subject)
		if err := res[0].Err; err != nil {
			return fmt.Errorf("schema registry: setting %s compatibility on %s: %w", Compatibility, subject, err)
		}
		id, err := s.reg.RegisterSchema(ctx, subject, sr.Schema{Schema: sch.Text, Type: sr.TypeAvro}, -1, -1)
		if err != nil {
			return fmt.Errorf("schema registry: registering %s under subject %s: %w", sch.Name, subject, explain(err))
		}
		// A registry gives identical schemas one id (Confluent's contract);
		// any id registered for the schema decodes to the same text, so
		// the first one is used for every topic.
		if _, ok := s.ids[sch.File]; !ok {
			s.ids[sch.File] = id
		}
		s.byID[id] = writer{sch.Codec, sch.shape}
	}
	return nil
}

// explain adds what an integrator does about the registry's usual refusals.
func explain(err error) error {
	var re *sr.ResponseError
	if errors.As(err, &re) && re.ErrorCode == 409 {
		return fmt.Errorf("%w (the subject holds a version this schema cannot read: change the schema compatibly, or register under a new subject)", err)
	}
	return err
}

// fullName is a schema's namespace-qualified record name.
func fullName(name, namespace string) string {
	if namespace == "" || strings.Contains(name, ".") {
		return name
	}
	return namespace + "." + name
}
