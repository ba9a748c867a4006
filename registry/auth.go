package registry

import (
	"bufio"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"golang.org/x/crypto/bcrypt"
)

// Role is what an authenticated user of the registry may do.
type Role string

// The roles of Users.
const (
	// RoleReadWrite may do everything: register, delete, change configs.
	RoleReadWrite Role = "read-write"
	// RoleReadOnly may read everything, look schemas up (POST
	// /subjects/{subject}) and ask compatibility checks, which change
	// nothing; any other request is refused with 403.
	RoleReadOnly Role = "read-only"
)

// Error codes of refused requests (Confluent's 401 and 403 codes).
const (
	codeUnauthorized = 40101
	codeForbidden    = 40301
)

// Users are the accounts of a registry that requires HTTP basic auth (see
// WithUsers). A password is kept as its SHA-256 digest, or as the bcrypt
// hash it was given as, and compared in constant time. It is safe for
// concurrent use.
type Users struct {
	accounts map[string]account

	mu sync.Mutex
	// verified is, per bcrypt user, the digest of the last password the
	// hash accepted, so that a client's every request does not pay bcrypt's
	// cost. A wrong password always does.
	verified map[string][sha256.Size]byte
}

type account struct {
	role   Role
	digest [sha256.Size]byte // of a plain password
	bcrypt []byte            // or a bcrypt hash
}

// ParseUsers reads accounts from text, as a users file or
// $SLUICE_REGISTRY_USERS holds them: entries `user:password:role`, separated
// by newlines or blanks, where role is read-write or read-only and the
// password is either the password itself or its bcrypt hash ($2a$, $2b$ or
// $2y$, as `htpasswd -nB` makes). A password may contain ':' but no blank; a
// user name neither. Empty lines and lines starting with # are skipped.
// source names the text in errors, which never quote a password.
func ParseUsers(text, source string) (*Users, error) {
	u := &Users{accounts: map[string]account{}, verified: map[string][sha256.Size]byte{}}
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(nil, 1<<20)
	for line := 1; sc.Scan(); line++ {
		trimmed := strings.TrimSpace(sc.Text())
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue
		}
		for _, entry := range strings.Fields(trimmed) {
			name, a, err := parseAccount(entry)
			if err != nil {
				return nil, fmt.Errorf("%s line %d: %v", source, line, err)
			}
			if _, dup := u.accounts[name]; dup {
				return nil, fmt.Errorf("%s line %d: user %s is listed twice", source, line, name)
			}
			u.accounts[name] = a
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading %s: %w", source, err)
	}
	if len(u.accounts) == 0 {
		return nil, fmt.Errorf("%s lists no user (entries are user:password:role)", source)
	}
	return u, nil
}

// parseAccount reads one user:password:role entry. Its errors quote neither
// the password nor the role (a forgotten role leaves the password there).
func parseAccount(entry string) (string, account, error) {
	name, rest, ok := strings.Cut(entry, ":")
	cut := strings.LastIndexByte(rest, ':')
	if !ok || name == "" || cut < 0 {
		return "", account{}, fmt.Errorf("an entry is not user:password:role")
	}
	password, role := rest[:cut], Role(rest[cut+1:])
	switch {
	case password == "":
		return "", account{}, fmt.Errorf("user %s has an empty password", name)
	case role != RoleReadWrite && role != RoleReadOnly:
		return "", account{}, fmt.Errorf("user %s: the role after the password's last ':' must be %s or %s", name, RoleReadWrite, RoleReadOnly)
	}
	a := account{role: role}
	if isBcrypt(password) {
		if _, err := bcrypt.Cost([]byte(password)); err != nil {
			return "", account{}, fmt.Errorf("user %s: the password looks like a bcrypt hash but is not a valid one", name)
		}
		a.bcrypt = []byte(password)
	} else {
		a.digest = sha256.Sum256([]byte(password))
	}
	return name, a, nil
}

func isBcrypt(s string) bool {
	for _, p := range []string{"$2a$", "$2b$", "$2y$"} {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// Len returns the number of accounts.
func (u *Users) Len() int { return len(u.accounts) }

// authenticate returns the role of user when password is theirs.
func (u *Users) authenticate(user, password string) (Role, bool) {
	digest := sha256.Sum256([]byte(password))
	a, known := u.accounts[user]
	if !known {
		// The same comparison a known user's plain password costs.
		subtle.ConstantTimeCompare(digest[:], a.digest[:])
		return "", false
	}
	if a.bcrypt == nil {
		return a.role, subtle.ConstantTimeCompare(digest[:], a.digest[:]) == 1
	}
	u.mu.Lock()
	last, seen := u.verified[user]
	u.mu.Unlock()
	if seen && subtle.ConstantTimeCompare(digest[:], last[:]) == 1 {
		return a.role, true
	}
	if bcrypt.CompareHashAndPassword(a.bcrypt, []byte(password)) != nil {
		return "", false
	}
	u.mu.Lock()
	u.verified[user] = digest
	u.mu.Unlock()
	return a.role, true
}

// WithUsers makes the Server require HTTP basic auth of one of users for
// every request: without valid credentials it answers 401 with a
// WWW-Authenticate challenge, and a read-only user's write gets 403, both
// with a registry JSON error body. A nil users leaves the Server open.
func WithUsers(users *Users) Option {
	return func(s *Server) { s.users = users }
}

// readOnlyPosts are the POST routes that change nothing: a lookup and the
// compatibility checks.
var readOnlyPosts = map[string]bool{
	"POST /subjects/{subject}":                                  true,
	"POST /compatibility/subjects/{subject}/versions":           true,
	"POST /compatibility/subjects/{subject}/versions/{version}": true,
}

// authorize checks r's credentials and whether their role allows r. It
// reads no body.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) *apiError {
	user, password, ok := r.BasicAuth()
	if !ok {
		w.Header().Set("WWW-Authenticate", `Basic realm="schema registry", charset="UTF-8"`)
		return newAPIError(http.StatusUnauthorized, codeUnauthorized, "Unauthorized: this schema registry requires HTTP basic authentication")
	}
	role, ok := s.users.authenticate(user, password)
	if !ok {
		s.log.Warn("schema registry refused credentials", "user", clip(user), "remote", r.RemoteAddr, "method", r.Method, "path", clip(r.URL.Path))
		w.Header().Set("WWW-Authenticate", `Basic realm="schema registry", charset="UTF-8"`)
		return newAPIError(http.StatusUnauthorized, codeUnauthorized, "Unauthorized: wrong user name or password")
	}
	if role == RoleReadOnly && s.writes(r) {
		return newAPIError(http.StatusForbidden, codeForbidden, "User %s is denied %s %s: the read-only role may only read", user, r.Method, r.URL.Path)
	}
	return nil
}

// writes reports whether r may change the registry. A request to no route
// counts as one: what is not known to be a read is refused to a reader.
func (s *Server) writes(r *http.Request) bool {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return false
	}
	_, pattern := s.mux.Handler(r)
	return !readOnlyPosts[pattern]
}
