package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/orchard-leads/orchard/schemas"
	"github.com/orchard-leads/orchard/topics"
)

// schemasCmd shows the record contract of a topic and decodes one value,
// for integrators working with their own Kafka tools (kcat, Connect).
func schemasCmd() *cobra.Command {
	var prefix, registryURL string
	show := &cobra.Command{
		Use: "show TOPIC", Short: "Print the Avro schema (.avsc) of the records a topic carries", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			rec, err := recordOf(topics.New(prefix), args[0])
			if err != nil {
				return err
			}
			fmt.Print(schemas.Of(rec).Text)
			return nil
		},
	}
	decode := &cobra.Command{
		Use:   "decode TOPIC",
		Short: "Decode one record value of TOPIC read from stdin (e.g. from kcat -f '%s') and print it as JSON",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := fromEnv(cmd); err != nil {
				return err
			}
			rec, err := recordOf(topics.New(prefix), args[0])
			if err != nil {
				return err
			}
			b, err := io.ReadAll(io.LimitReader(os.Stdin, maxStdinValue+1))
			if err != nil {
				return err
			}
			if len(b) > maxStdinValue {
				return fmt.Errorf("stdin holds more than %d bytes: not one record value", maxStdinValue)
			}
			ctx := context.Background()
			serde, err := schemas.Open(ctx, schemas.Registry{URL: registryURL, ReadOnly: true})
			if err != nil {
				return err
			}
			if err := serde.Decode(ctx, b, rec); err != nil {
				return fmt.Errorf("%s: %w", args[0], err)
			}
			return json.NewEncoder(os.Stdout).Encode(schemas.Fields(rec))
		},
	}
	s := &cobra.Command{Use: "schemas", Short: "Show the record schema of a topic, or decode one value read from stdin"}
	s.PersistentFlags().StringVar(&prefix, "topic-prefix", "", "prefix of every topic name")
	decode.Flags().StringVar(&registryURL, "schema-registry", "", "schema registry of framed values (decoded by the schema id); empty: plain Avro")
	s.AddCommand(show, decode)
	return s
}

// maxStdinValue bounds what decode reads: far above any record a broker
// accepts by default (1 MB), far below what would strain memory.
const maxStdinValue = 16 << 20
