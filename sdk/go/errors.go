package jianguan

import (
	"errors"
	"fmt"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// What stops reporting: only refusals no retry can change. Every other status (a gateway killed
// mid-stream surfaces as UNAVAILABLE, INTERNAL, CANCELLED or UNKNOWN; a proxy may answer others)
// is a transport fault, retried while events wait.
var terminalCodes = map[codes.Code]bool{
	codes.Unauthenticated:  true,
	codes.PermissionDenied: true,
	codes.Unimplemented:    true,
	codes.InvalidArgument:  true,
}

// ErrClosed: the reporter was closed before the gateway answered the event.
var ErrClosed = errors.New("jianguan: reporter closed before the event was delivered")

// StoppedError says why a reporter stopped for good; every event waiting then fails with it.
type StoppedError struct {
	Code    codes.Code
	Details string
	Message string
}

func (e *StoppedError) Error() string { return e.Message }

// IsAuthentication is true when the gateway refused the credential (a wrong, revoked or missing
// token): no retry succeeds until the token changes.
func (e *StoppedError) IsAuthentication() bool {
	return e.Code == codes.Unauthenticated || e.Code == codes.PermissionDenied
}

// refusal is the error for a call refused for good, or nil when err is a transport fault.
func refusal(err error, target string) *StoppedError {
	st, ok := status.FromError(err)
	if !ok || !terminalCodes[st.Code()] {
		return nil
	}
	said := st.Code().String()
	if st.Message() != "" {
		said += ": " + st.Message()
	}
	e := &StoppedError{Code: st.Code(), Details: st.Message()}
	switch {
	case e.IsAuthentication():
		e.Message = fmt.Sprintf("jianguan: the gateway at %s refused the credential (%s); check the "+
			"token `jianguan providers add` printed", target, said)
	case st.Code() == codes.Unimplemented:
		e.Message = fmt.Sprintf("jianguan: %s does not serve jianguan's ingest service (%s)", target, said)
	default:
		e.Message = fmt.Sprintf("jianguan: the gateway at %s refused the call (%s)", target, said)
	}
	return e
}
