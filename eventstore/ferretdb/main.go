// Command ferretdb is the local event store of the stack: FerretDB 1.x embedded as a library, serving the
// MongoDB wire protocol on a TCP address and keeping documents in a PostgreSQL database.
//
// FerretDB's own command (cmd/ferretdb) cannot be built from the module proxy: it panics at start-up
// because build/version/version.txt is generated in FerretDB's repository and is not part of the module.
// The embeddable package (github.com/FerretDB/FerretDB/ferretdb) does not need that file.
//
//	ferretdb -listen 127.0.0.1:27018 -postgresql-url postgres://user:pass@127.0.0.1:15432/eventstore
//
// It stops cleanly on SIGINT or SIGTERM.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:27018", "TCP address of the MongoDB wire protocol listener")
	pgURL := flag.String("postgresql-url", "", "PostgreSQL connection string of the database that holds the documents")
	level := flag.String("log-level", "warn", "debug, info, warn or error")
	flag.Parse()

	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(*level)); err != nil {
		fail("bad -log-level: %v", err)
	}
	if *pgURL == "" {
		fail("-postgresql-url is required")
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: lvl}))

	f, err := ferretdb.New(&ferretdb.Config{
		Listener:      ferretdb.ListenerConfig{TCP: *listen},
		Logger:        logger,
		Handler:       "postgresql",
		PostgreSQLURL: *pgURL,
	})
	if err != nil {
		fail("%v", err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// The start-up line the stack's log shows; health is checked on the wire protocol, not on this line.
	logger.Warn("listening", "uri", f.MongoDBURI())
	if err := f.Run(ctx); err != nil {
		fail("%v", err)
	}
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "ferretdb: "+format+"\n", args...)
	os.Exit(2)
}
