package ppg

import (
	"errors"
	"strings"
)

func containsKey(err error, key string) bool {
	var fe *FieldError
	return errors.As(err, &fe) && fe.Key == key && strings.HasPrefix(err.Error(), "ppg: "+key+": ")
}
