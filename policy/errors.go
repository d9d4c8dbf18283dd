package policy

import (
	"errors"
	"fmt"
	"strings"
)

// Error is one problem in a policy file, with its position. Its text is
// "file:line:col: message", as compilers and `phonegate lint` print it.
type Error struct {
	File    string
	Line    int // 1-based; 0 when the problem has no position (a missing file)
	Column  int // 1-based
	Message string
}

func (e *Error) Error() string {
	if e.Line == 0 {
		return fmt.Sprintf("%s: %s", e.File, e.Message)
	}
	return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Column, e.Message)
}

// ErrorList is every problem found in a load, in file order. Load returns one
// when anything is wrong, so an operator sees all mistakes at once.
type ErrorList []*Error

func (l ErrorList) Error() string {
	lines := make([]string, len(l))
	for i, e := range l {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Errors returns the positioned problems inside err, or nil if it holds none.
func Errors(err error) ErrorList {
	var l ErrorList
	if errors.As(err, &l) {
		return l
	}
	var e *Error
	if errors.As(err, &e) {
		return ErrorList{e}
	}
	return nil
}
