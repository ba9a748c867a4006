package processors

import "github.com/expr-lang/expr/vm"

// Scratch is memory the messages of one partition reuse one after the
// other: the virtual machine expressions run on and the map of their
// environment. The runtime gives each partition its own (Message.Reuse), so
// evaluating an expression allocates neither. A Scratch is not safe for
// concurrent use.
type Scratch struct {
	vm  vm.VM
	env map[string]any
}

// Reuse makes m evaluate its expressions with s. m must be the only message
// using s until it is done.
func (m *Message) Reuse(s *Scratch) {
	m.scratch = s
	m.env = nil
}
