// Package analytics streams Orchard's events into ClickHouse and answers
// the fairness questions with named SQL queries.
package analytics

import (
	"context"
	"embed"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Open connects over the native protocol and creates the DSN's database
// when missing. DSN: clickhouse://[user[:pass]@]host:9000/database
func Open(ctx context.Context, dsn string) (driver.Conn, error) {
	opts, err := clickhouse.ParseDSN(dsn)
	if err != nil {
		return nil, fmt.Errorf("clickhouse DSN %q: %w", dsn, err)
	}
	db := opts.Auth.Database
	if db == "" {
		db = "default"
	}
	boot := *opts
	boot.Auth.Database = "default"
	bc, err := clickhouse.Open(&boot)
	if err != nil {
		return nil, fmt.Errorf("clickhouse: %w", err)
	}
	if err := bc.Ping(ctx); err != nil {
		bc.Close()
		return nil, fmt.Errorf("clickhouse at %v: %w", opts.Addr, err)
	}
	err = bc.Exec(ctx, "CREATE DATABASE IF NOT EXISTS "+quoteIdent(db))
	bc.Close()
	if err != nil {
		return nil, fmt.Errorf("clickhouse: create database %s: %w", db, err)
	}
	opts.Auth.Database = db
	conn, err := clickhouse.Open(opts)
	if err != nil {
		return nil, fmt.Errorf("clickhouse: %w", err)
	}
	return conn, nil
}

// DropDatabase drops the DSN's database: only a simulation's own
// (a name with "_sim_"), which each run starts afresh.
func DropDatabase(ctx context.Context, dsn string) error {
	opts, err := clickhouse.ParseDSN(dsn)
	if err != nil {
		return fmt.Errorf("clickhouse DSN %q: %w", dsn, err)
	}
	db := opts.Auth.Database
	if !strings.Contains(db, "_sim_") {
		return fmt.Errorf("clickhouse: refusing to drop %q: not a simulation's database", db)
	}
	opts.Auth.Database = "default"
	conn, err := clickhouse.Open(opts)
	if err != nil {
		return fmt.Errorf("clickhouse: %w", err)
	}
	defer conn.Close()
	if err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+quoteIdent(db)); err != nil {
		return fmt.Errorf("clickhouse at %v: drop database %s: %w", opts.Addr, db, err)
	}
	return nil
}

func quoteIdent(s string) string { return "`" + strings.ReplaceAll(s, "`", "``") + "`" }

// Migrate applies the versioned files of migrations/ that this database
// has not seen, in order, and records each.
func Migrate(ctx context.Context, conn driver.Conn) (applied []string, err error) {
	return migrate(ctx, conn, math.MaxUint32)
}

// migrate applies the migrations up to version upto.
func migrate(ctx context.Context, conn driver.Conn, upto uint32) (applied []string, err error) {
	if err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version UInt32, name String, applied_at DateTime) ENGINE = MergeTree ORDER BY version`); err != nil {
		return nil, fmt.Errorf("migrations table: %w", err)
	}
	done := map[uint32]bool{}
	rows, err := conn.Query(ctx, "SELECT version FROM schema_migrations")
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var v uint32
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return nil, err
		}
		done[v] = true
	}
	rows.Close()
	entries, _ := migrations.ReadDir("migrations")
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name() < entries[j].Name() })
	for _, e := range entries {
		num, _, ok := strings.Cut(e.Name(), "_")
		v, perr := strconv.ParseUint(num, 10, 32)
		if !ok || perr != nil {
			return applied, fmt.Errorf("migration %s: name must start with a number and _", e.Name())
		}
		if done[uint32(v)] || uint32(v) > upto {
			continue
		}
		body, _ := migrations.ReadFile("migrations/" + e.Name())
		for _, stmt := range splitStatements(string(body)) {
			if err := conn.Exec(ctx, stmt); err != nil {
				return applied, fmt.Errorf("migration %s: %w", e.Name(), err)
			}
		}
		batch, err := conn.PrepareBatch(ctx, "INSERT INTO schema_migrations (version, name, applied_at)")
		if err != nil {
			return applied, err
		}
		if err := batch.Append(uint32(v), e.Name(), nowUTC()); err != nil {
			return applied, err
		}
		if err := batch.Send(); err != nil {
			return applied, fmt.Errorf("record migration %s: %w", e.Name(), err)
		}
		applied = append(applied, e.Name())
	}
	return applied, nil
}

// splitStatements splits a file on semicolons that end a line and drops
// comment-only lines.
func splitStatements(sql string) []string {
	var out []string
	var cur strings.Builder
	for _, line := range strings.Split(sql, "\n") {
		t := strings.TrimSpace(line)
		if strings.HasPrefix(t, "--") || t == "" {
			continue
		}
		cur.WriteString(line + "\n")
		if strings.HasSuffix(t, ";") {
			out = append(out, strings.TrimSuffix(strings.TrimSpace(cur.String()), ";"))
			cur.Reset()
		}
	}
	if s := strings.TrimSpace(cur.String()); s != "" {
		out = append(out, s)
	}
	return out
}
