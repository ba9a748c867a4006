package config

import "github.com/goccy/go-yaml/token"

type tokenT = token.Token

const (
	tokenDoubleQuote = token.DoubleQuoteType
	tokenSingleQuote = token.SingleQuoteType
)

func tokenPos(file string, tk *token.Token) Pos {
	if tk == nil || tk.Position == nil {
		return Pos{File: file}
	}
	return Pos{File: file, Line: tk.Position.Line, Col: tk.Position.Column}
}
