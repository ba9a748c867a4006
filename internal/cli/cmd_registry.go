package cli

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/kafkaconn"
	"github.com/sluicehq/sluice/internal/tlsconf"
	"github.com/sluicehq/sluice/pipeline"
	"github.com/sluicehq/sluice/processors/config"
	"github.com/sluicehq/sluice/registry"
)

// registryStartTimeout bounds connecting to Kafka and reading the schemas topic.
const registryStartTimeout = 2 * time.Minute

type registryServeOptions struct {
	addr        string
	brokers     string
	memory      bool
	topic       string
	replication int16
	maxSchema   int
	// The server's TLS and users (see serverSecurity).
	tlsCertFile, tlsKeyFile, tlsClientCAFile string
	usersFile                                string
	kafkaSec                                 kafkaSecurityFlags
}

// Environment variables of the registry server's users: a file of
// user:password:role entries, or the entries themselves.
const (
	envRegistryUsersFile = "SLUICE_REGISTRY_USERS_FILE"
	envRegistryUsers     = "SLUICE_REGISTRY_USERS"
)

// registryCmd is `sluice registry`, the parent of `registry serve`.
func (a *app) registryCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "registry",
		Short: "Run sluice's Confluent-compatible schema registry",
	}
	cmd.AddCommand(a.registryServeCmd())
	requireSubcommand(cmd)
	return cmd
}

func (a *app) registryServeCmd() *cobra.Command {
	var o registryServeOptions
	cmd := &cobra.Command{
		Use:   "serve [--addr ADDR] (--brokers LIST | --memory)",
		Short: "Serve the schema registry REST API",
		Long: `Serve the Confluent Schema Registry REST API on --addr.

With --brokers (default $SLUICE_BROKERS) schemas live in the compacted, single-partition
topic --topic (default _schemas, created if missing) in Confluent's format, so a restarted
registry serves the same ids, versions and configs. With --memory they live in memory and
are lost on exit. Stops cleanly on SIGINT or SIGTERM.

The registry is open unless users are given, in --users-file (default
$SLUICE_REGISTRY_USERS_FILE) or in $SLUICE_REGISTRY_USERS: entries
user:password:role, separated by newlines or blanks, role read-write or
read-only, the password plain or a bcrypt hash (htpasswd -nB). Then every
request needs HTTP basic auth of one of them (401 otherwise), and a read-only
user may read, look up and check compatibility, nothing else (403). With
--tls-cert-file and --tls-key-file it serves https; with --tls-client-ca-file
clients must also present a certificate signed by one of those CAs.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !cmd.Flags().Changed("brokers") {
				o.brokers = a.getenv(envBrokers)
			}
			if o.memory && cmd.Flags().Changed("brokers") {
				return usagef("--memory and --brokers are mutually exclusive")
			}
			if !o.memory && strings.TrimSpace(o.brokers) == "" {
				return usagef("registry serve needs --brokers LIST (or $SLUICE_BROKERS) or --memory")
			}
			if o.maxSchema < 1 {
				return usagef("--max-schema-bytes must be at least 1, got %d", o.maxSchema)
			}
			o.kafkaSec.resolve(a.getenv)
			sec, err := a.serverSecurity(o)
			if err != nil {
				return err
			}
			return a.runRegistryServe(cmd.Context(), o, sec)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.addr, "addr", "127.0.0.1:8081", "address to serve the REST API on")
	f.StringVar(&o.brokers, "brokers", "", "comma-separated Kafka brokers (default $SLUICE_BROKERS)")
	f.BoolVar(&o.memory, "memory", false, "keep schemas in memory instead of Kafka")
	f.StringVar(&o.topic, "topic", "_schemas", "schemas topic (with --brokers)")
	f.Int16Var(&o.replication, "replication-factor", 1, "replication factor when creating the schemas topic")
	f.IntVar(&o.maxSchema, "max-schema-bytes", registry.DefaultMaxSchemaBytes, "largest schema text accepted; larger ones get 413")
	f.StringVar(&o.tlsCertFile, "tls-cert-file", "", "PEM certificate to serve https with (with --tls-key-file)")
	f.StringVar(&o.tlsKeyFile, "tls-key-file", "", "PEM key of --tls-cert-file")
	f.StringVar(&o.tlsClientCAFile, "tls-client-ca-file", "", "PEM CAs a client certificate must be signed by (mutual TLS; needs --tls-cert-file)")
	f.StringVar(&o.usersFile, "users-file", "", "require basic auth of the users in this file, user:password:role per line (default $"+envRegistryUsersFile+"; or the entries in $"+envRegistryUsers+")")
	addKafkaSecurityFlags(cmd, &o.kafkaSec)
	return cmd
}

// serverSecurity is how `registry serve` protects itself: TLS (nil: plain
// HTTP) and users (nil: open).
type serverSecurity struct {
	tls   *tls.Config
	users *registry.Users
}

// serverSecurity reads the TLS files and the users before anything starts.
// Its errors name files and users, never a password.
func (a *app) serverSecurity(o registryServeOptions) (serverSecurity, error) {
	var sec serverSecurity
	switch {
	case (o.tlsCertFile == "") != (o.tlsKeyFile == ""):
		return sec, usagef("--tls-cert-file and --tls-key-file go together")
	case o.tlsClientCAFile != "" && o.tlsCertFile == "":
		return sec, usagef("--tls-client-ca-file needs --tls-cert-file and --tls-key-file")
	case o.tlsCertFile != "":
		cfg, err := tlsconf.Config{Enabled: true, CertFile: o.tlsCertFile, KeyFile: o.tlsKeyFile, CAFile: o.tlsClientCAFile}.Server()
		if err != nil {
			return sec, usagef("%v", err)
		}
		sec.tls = cfg
	}
	file, inline := a.flagOrEnv(o.usersFile, envRegistryUsersFile), a.getenv(envRegistryUsers)
	switch {
	case file != "" && inline != "":
		return sec, usagef("both a users file (--users-file / $%s) and $%s: give the users one way", envRegistryUsersFile, envRegistryUsers)
	case file != "":
		text, err := os.ReadFile(file)
		if err != nil {
			return sec, usagef("--users-file: %v", err)
		}
		if sec.users, err = registry.ParseUsers(string(text), file); err != nil {
			return sec, usagef("%v", err)
		}
	case inline != "":
		users, err := registry.ParseUsers(inline, "$"+envRegistryUsers)
		if err != nil {
			return sec, usagef("%v", err)
		}
		sec.users = users
	}
	return sec, nil
}

// describe returns the log attributes that say how the registry is protected.
func (sec serverSecurity) describe() []any {
	auth := "none"
	if sec.users != nil {
		auth = fmt.Sprintf("basic (%d users)", sec.users.Len())
	}
	return []any{"tls", sec.tls != nil, "auth", auth}
}

func (a *app) runRegistryServe(ctx context.Context, o registryServeOptions, sec serverSecurity) error {
	log, err := a.loggerAt(slog.LevelInfo)
	if err != nil {
		return err
	}
	if sec.users != nil && sec.tls == nil {
		log.Warn("schema registry requires basic auth over plain HTTP: passwords cross the network in clear text; serve https with --tls-cert-file and --tls-key-file")
	}
	var (
		store registry.Store
		desc  = []any{"store", "memory"}
	)
	if o.memory {
		store = registry.NewMemoryStore()
	} else {
		brokers := config.SplitList(o.brokers)
		if err := pipeline.CheckBrokers(brokers); err != nil {
			return usagef("--brokers: %v", err)
		}
		t, s, err := o.kafkaSec.config()
		if err != nil {
			return err
		}
		kafka := kafkaconn.Config{Brokers: brokers, TLS: t, SASL: s}
		kopts, err := kafka.Opts()
		if err != nil {
			return usagef("%v", err)
		}
		startCtx, cancel := context.WithTimeout(ctx, registryStartTimeout)
		// Connect first: a refused password or an unreachable broker is a
		// clear error at once, not a store that retries its first request.
		adm, err := kafka.Dial(startCtx)
		if err != nil {
			cancel()
			return err
		}
		adm.Close()
		ks, err := registry.NewKafkaStore(startCtx, registry.KafkaStoreConfig{
			Brokers: brokers, ClientOpts: kopts, Topic: o.topic, ReplicationFactor: o.replication, Logger: log,
		})
		cancel()
		if err != nil {
			return fmt.Errorf("opening schema store: %w", err)
		}
		defer closeRegistryStore(log, ks)
		store = ks
		desc = []any{"store", "kafka", "brokers", strings.Join(brokers, ","), "kafka_security", kafka.Protocol(), "topic", o.topic}
	}
	srv := registry.NewServer(store, registry.WithLogger(log), registry.WithMaxSchemaBytes(o.maxSchema), registry.WithUsers(sec.users))
	err = registry.ListenAndServeTLS(ctx, o.addr, srv, sec.tls, func(addr net.Addr) {
		log.Info("schema registry serving", append(append([]any{"addr", addr.String()}, desc...), sec.describe()...)...)
	})
	if err != nil {
		return err
	}
	log.Info("schema registry stopped")
	return nil
}

func closeRegistryStore(log *slog.Logger, c io.Closer) {
	if err := c.Close(); err != nil {
		log.Error("closing schema store", "error", err)
	}
}
