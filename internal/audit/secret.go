package audit

import (
	"crypto/sha256"
	"errors"
)

// Secret derives a stable secret for label from the signing key: the same on
// every instance that shares the key file, unknown to anyone with only the
// database. Ed25519 signatures are deterministic, so the derived secret is too.
func (k *Keys) Secret(label string) ([]byte, error) {
	if k == nil || k.signer == nil {
		return nil, errors.New("no signing key")
	}
	sig, err := k.signer.Sign([]byte("rectify-derived-secret/v1\n" + label))
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(sig)
	return sum[:], nil
}
