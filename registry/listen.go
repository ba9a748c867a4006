package registry

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// shutdownTimeout bounds how long ListenAndServe waits for in-flight requests.
const shutdownTimeout = 10 * time.Second

// ListenAndServe serves h on addr until ctx is cancelled, then shuts the server
// down gracefully and returns nil. ready, if not nil, is called with the bound
// address once the listener is open (so addr may use port 0).
//
// A client gets ReadHeaderTimeout to send its headers and a keep-alive
// connection is closed after IdleTimeout: a *Server's own settings (see
// WithReadHeaderTimeout, WithIdleTimeout), else the defaults (10s, 60s). The
// body deadline is set by the Server itself (WithBodyReadTimeout). There is no
// http.Server ReadTimeout or WriteTimeout: both run across a handler waiting
// for the store, the first cancelling it, the second cutting its answer off.
func ListenAndServe(ctx context.Context, addr string, h http.Handler, ready func(net.Addr)) error {
	return ListenAndServeTLS(ctx, addr, h, nil, ready)
}

// ListenAndServeTLS is ListenAndServe over TLS with cfg, which holds the
// server's certificate (and, for mutual TLS, the client CAs and ClientAuth);
// a nil cfg serves plain HTTP.
func ListenAndServeTLS(ctx context.Context, addr string, h http.Handler, cfg *tls.Config, ready func(net.Addr)) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", addr, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: defaultReadHeaderTimeout, IdleTimeout: defaultIdleTimeout, TLSConfig: cfg}
	if s, ok := h.(*Server); ok {
		srv.ReadHeaderTimeout, srv.IdleTimeout = s.readHeaderTimeout, s.idleTimeout
		// net/http's own complaints (a failed TLS handshake: a port scan, a
		// probe, a client that does not trust the certificate) are debug.
		srv.ErrorLog = slog.NewLogLogger(s.log.Handler(), slog.LevelDebug)
	}
	if ready != nil {
		ready(ln.Addr())
	}
	served := make(chan error, 1)
	go func() {
		if cfg != nil {
			served <- srv.ServeTLS(ln, "", "")
			return
		}
		served <- srv.Serve(ln)
	}()
	select {
	case err := <-served:
		return fmt.Errorf("serving on %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	shutdownErr := srv.Shutdown(sctx)
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serving on %s: %w", ln.Addr(), err)
	}
	if shutdownErr != nil {
		return fmt.Errorf("shutting down %s: %w", ln.Addr(), shutdownErr)
	}
	return nil
}
