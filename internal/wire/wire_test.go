package wire

import (
	"bytes"
	"crypto"
	"encoding/binary"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/tolerantca/tolerant/grouping"
	"github.com/tolerantca/tolerant/share"
)

func samples() []Packet {
	h := Header{Distributor: 22, Task: 1 << 40, KeyID: "0123abcd", Epoch: 3}
	return []Packet{
		&Task{Header: h, Request: share.Request{KeyID: h.KeyID, Hash: crypto.SHA256, Digest: bytes.Repeat([]byte{7}, 32), Scheme: share.PKCS1v15, Content: []byte("tbs")}},
		&Task{Header: h, Request: share.Request{KeyID: h.KeyID, Hash: crypto.SHA384, Digest: bytes.Repeat([]byte{1}, 48), Scheme: share.PSS, Encoded: bytes.Repeat([]byte{9}, 256), SaltLength: -1}},
		&Task{Header: h, Request: share.Request{KeyID: h.KeyID, Hash: crypto.SHA512, Content: []byte{}}},
		&Ack{Header: h, TaskHash: [32]byte{1, 2}, Calculator: 3, K: 5, T: 3, Status: Accepted},
		&Ack{Header: h, Calculator: 4, K: 5, T: 3, Status: Refused, Reason: ReasonDeclined},
		&Partials{Header: h, TaskHash: [32]byte{5}, Calculator: 2, Shares: []Share{{Index: 1, Value: []byte{1, 2, 3}}, {Index: 2, Value: bytes.Repeat([]byte{0xff}, 512)}}},
		&Partials{Header: h, Calculator: 2},
		&Result{Header: h, TaskHash: [32]byte{8}, Combiner: 2, Signature: []byte{4, 5}, Rep: grouping.Rep{{J: 1, I: 1}, {J: 2, I: 2}, {J: 3, I: 1}}, Calculators: []int{1, 2, 3, 5}, Inconsistent: []int{5}},
		&Result{Header: Header{}},
		&Done{Header: h, TaskHash: [32]byte{9, 9}},
		&Signed{Role: 2, Number: 3, Body: []byte{Version, byte(TypeAck), 0xff}, Sig: bytes.Repeat([]byte{0xaa}, 64)},
	}
}

func TestRoundTripSamples(t *testing.T) {
	for _, p := range samples() {
		b, err := Marshal(p)
		require.NoError(t, err, "%T", p)
		q, err := Unmarshal(b)
		require.NoError(t, err, "%T", p)
		assert.Empty(t, cmp.Diff(p, q), "%T round trip (-want +got)", p)
		wantType := p.Type()
		if s, ok := p.(*Signed); ok {
			wantType = Type(s.Body[1])
		}
		typ, err := PeekType(b)
		if assert.NoError(t, err, "%T: PeekType", p) {
			assert.Equal(t, wantType, typ, "%T: PeekType", p)
		}
		// Every strict prefix is refused.
		for n := 0; n < len(b); n++ {
			_, err := Unmarshal(b[:n])
			require.ErrorIs(t, err, ErrMalformed, "%T prefix %d", p, n)
		}
		_, err = Unmarshal(append(b, 0))
		assert.ErrorIs(t, err, ErrMalformed, "%T with a trailing byte", p)
	}
}

func optBytes(t *rapid.T, label string, max int) []byte {
	b := rapid.SliceOfN(rapid.Byte(), 0, max).Draw(t, label)
	if len(b) == 0 {
		return nil
	}
	return b
}

func optInts(t *rapid.T, label string) []int {
	v := rapid.SliceOfN(rapid.IntRange(0, 65535), 0, 8).Draw(t, label)
	if len(v) == 0 {
		return nil
	}
	return v
}

func genHeader(t *rapid.T) Header {
	return Header{
		Distributor: rapid.Uint32().Draw(t, "dist"),
		Task:        rapid.Uint64().Draw(t, "task"),
		KeyID:       rapid.StringN(0, 64, 64).Draw(t, "keyid"),
		Epoch:       rapid.Uint32().Draw(t, "epoch"),
		Time:        rapid.Int64().Draw(t, "time"),
		Instance:    rapid.Uint64().Draw(t, "instance"),
	}
}

func genPacket(t *rapid.T) Packet {
	h := genHeader(t)
	var fp [32]byte
	copy(fp[:], rapid.SliceOfN(rapid.Byte(), 32, 32).Draw(t, "fp"))
	switch rapid.IntRange(0, 4).Draw(t, "type") {
	case 4:
		body := append([]byte{Version, byte(rapid.IntRange(1, 4).Draw(t, "inner"))}, optBytes(t, "body", 40)...)
		return &Signed{Role: rapid.Uint8().Draw(t, "role"), Number: rapid.IntRange(0, 65535).Draw(t, "n"), Body: body,
			Sig: rapid.SliceOfN(rapid.Byte(), 64, 64).Draw(t, "sig")}
	case 0:
		r := share.Request{
			KeyID:      h.KeyID,
			Hash:       crypto.Hash(rapid.IntRange(0, 255).Draw(t, "hash")),
			Digest:     optBytes(t, "digest", MaxDigest),
			Scheme:     share.Scheme(rapid.Uint8().Draw(t, "scheme")),
			Encoded:    optBytes(t, "encoded", 64),
			SaltLength: int(rapid.Int32().Draw(t, "salt")),
		}
		if rapid.Bool().Draw(t, "hasContent") {
			r.Content = rapid.SliceOfN(rapid.Byte(), 0, 100).Draw(t, "content")
		}
		return &Task{Header: h, Request: r}
	case 1:
		a := &Ack{Header: h, TaskHash: fp, Calculator: rapid.IntRange(0, 65535).Draw(t, "j"),
			K: rapid.IntRange(0, 65535).Draw(t, "k"), T: rapid.IntRange(0, 65535).Draw(t, "t"), Status: Accepted}
		switch rapid.IntRange(0, 2).Draw(t, "status") {
		case 1:
			a.Status, a.Reason = Refused, Reason(rapid.IntRange(1, int(maxReason)).Draw(t, "reason"))
			a.Detail = rapid.StringMatching(`[ -~]{0,128}`).Draw(t, "detail")
		case 2:
			a.Status = Computed
		}
		return a
	case 2:
		p := &Partials{Header: h, TaskHash: fp, Calculator: rapid.IntRange(0, 65535).Draw(t, "j")}
		n := rapid.IntRange(0, 4).Draw(t, "n")
		for range n {
			p.Shares = append(p.Shares, Share{Index: rapid.IntRange(0, 65535).Draw(t, "i"), Value: optBytes(t, "value", 64)})
		}
		return p
	default:
		r := &Result{Header: h, TaskHash: fp, Combiner: rapid.IntRange(0, 65535).Draw(t, "c"),
			Signature: optBytes(t, "sig", 64), Calculators: optInts(t, "calcs"), Inconsistent: optInts(t, "bad"), Suspects: optInts(t, "suspects")}
		n := rapid.IntRange(0, 5).Draw(t, "terms")
		for range n {
			r.Rep = append(r.Rep, grouping.Term{J: rapid.IntRange(0, 65535).Draw(t, "tj"), I: rapid.IntRange(0, 65535).Draw(t, "ti")})
		}
		return r
	}
}

// TestRoundTripRapid: Unmarshal(Marshal(x)) == x for generated packets.
func TestRoundTripRapid(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		p := genPacket(t)
		b, err := Marshal(p)
		require.NoError(t, err, "Marshal")
		q, err := Unmarshal(b)
		require.NoError(t, err, "Unmarshal")
		require.Empty(t, cmp.Diff(p, q), "round trip (-want +got)")
	})
}

func TestMarshalLimits(t *testing.T) {
	h := Header{KeyID: "k"}
	big := func(n int) []byte { return make([]byte, n) }
	bad := []Packet{
		nil,
		&Task{Header: Header{KeyID: string(big(65))}, Request: share.Request{KeyID: string(big(65))}},
		&Task{Header: h, Request: share.Request{KeyID: "other"}},
		&Task{Header: h, Request: share.Request{KeyID: "k", Hash: 256}},
		&Task{Header: h, Request: share.Request{KeyID: "k", Digest: big(65)}},
		&Task{Header: h, Request: share.Request{KeyID: "k", Encoded: big(MaxValueSize + 1)}},
		&Task{Header: h, Request: share.Request{KeyID: "k", SaltLength: 1 << 40}},
		&Ack{Header: h, Status: 0},
		&Ack{Header: h, Status: Accepted, Reason: ReasonDeclined},
		&Ack{Header: h, Status: Refused, Reason: ReasonNone},
		&Ack{Header: h, Status: Accepted, Calculator: -1},
		&Ack{Header: h, Status: Computed, Reason: ReasonBusy},
		&Ack{Header: h, Status: 4},
		&Partials{Header: h, Calculator: 70000},
		&Partials{Header: h, Shares: make([]Share, MaxList+1)},
		&Partials{Header: h, Shares: []Share{{Index: 1, Value: big(MaxValueSize + 1)}}},
		&Result{Header: h, Signature: big(MaxValueSize + 1)},
		&Result{Header: h, Inconsistent: []int{-3}},
		&Result{Header: h, Rep: make(grouping.Rep, MaxList+1)},
		&Signed{Body: []byte{Version, byte(TypeTask)}, Sig: make([]byte, 63)},
		&Signed{Body: []byte{Version, byte(TypeSigned)}, Sig: make([]byte, 64)},
		&Signed{Body: []byte{Version}, Sig: make([]byte, 64)},
		&Signed{Body: []byte{Version, byte(TypeTask)}, Sig: make([]byte, 64), Number: 1 << 16},
	}
	for n, p := range bad {
		b, err := Marshal(p)
		assert.Error(t, err, "case %d (%T): Marshal accepted, %d bytes", n, p, len(b))
	}
}

func TestUnmarshalLimits(t *testing.T) {
	// A content length above share.MaxContentSize is refused before any allocation.
	p := &Task{Header: Header{KeyID: "k"}, Request: share.Request{KeyID: "k", Content: []byte{}}}
	b, err := Marshal(p)
	require.NoError(t, err)
	binary.BigEndian.PutUint32(b[len(b)-4:], share.MaxContentSize+1)
	_, err = Unmarshal(b)
	assert.ErrorIs(t, err, ErrMalformed, "oversized content")
	// A huge declared count with a short buffer.
	r, _ := Marshal(&Result{Header: Header{KeyID: "k"}})
	binary.BigEndian.PutUint16(r[len(r)-4:], 200)
	_, err = Unmarshal(r)
	assert.ErrorIs(t, err, ErrMalformed, "count beyond buffer")
	for _, b := range [][]byte{nil, {1}, {2, 1}, {1, 0}, {1, 9}, make([]byte, MaxPacketSize+1)} {
		_, err := Unmarshal(b)
		assert.ErrorIs(t, err, ErrMalformed, "Unmarshal(%x...)", b[:min(len(b), 4)])
	}
	// Unknown flags and statuses.
	tb, _ := Marshal(&Task{Header: Header{KeyID: "k"}, Request: share.Request{KeyID: "k"}})
	tb[len(tb)-1] = 2
	_, err = Unmarshal(tb)
	assert.ErrorIs(t, err, ErrMalformed, "unknown flag")
	ab, _ := Marshal(&Ack{Header: Header{KeyID: "k"}, Status: Accepted})
	ab[len(ab)-2] = 4
	_, err = Unmarshal(ab)
	assert.ErrorIs(t, err, ErrMalformed, "unknown status")
}

func TestFingerprintStable(t *testing.T) {
	p := samples()[0]
	a, _ := Marshal(p)
	b, _ := Marshal(p)
	require.Equal(t, Fingerprint(a), Fingerprint(b), "fingerprint differs for the same packet")
}

// FuzzUnmarshal: decoding never panics; what decodes re-encodes to the same
// bytes (the encoding is canonical) and decodes to the same packet.
func FuzzUnmarshal(f *testing.F) {
	for _, p := range samples() {
		b, err := Marshal(p)
		require.NoError(f, err)
		f.Add(b)
	}
	f.Add([]byte{})
	f.Add([]byte{1, 1})
	f.Add([]byte{1, 3, 0, 0, 0, 0})
	f.Add([]byte{2, 1, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := Unmarshal(b)
		if err != nil {
			require.ErrorIs(t, err, ErrMalformed)
			return
		}
		b2, err := Marshal(p)
		require.NoError(t, err, "Marshal of a decoded packet")
		require.Equal(t, b, b2, "not canonical")
		q, err := Unmarshal(b2)
		require.NoError(t, err, "re-decode")
		require.Empty(t, cmp.Diff(p, q), "re-decode differs (-first +second)")
	})
}

// TestAckDetail: a refusal's detail is printable ASCII of at most
// MaxDetail bytes, and only a refusal has one.
func TestAckDetail(t *testing.T) {
	ok := &Ack{Calculator: 1, Status: Refused, Reason: ReasonPolicy, Detail: "san"}
	b, err := Marshal(ok)
	require.NoError(t, err)
	p, err := Unmarshal(b)
	require.NoError(t, err)
	require.IsType(t, &Ack{}, p)
	require.Equal(t, "san", p.(*Ack).Detail)
	for _, a := range []*Ack{
		{Calculator: 1, Status: Refused, Reason: ReasonPolicy, Detail: "bad\x00rule"},
		{Calculator: 1, Status: Refused, Reason: ReasonPolicy, Detail: string(make([]byte, MaxDetail+1))},
		{Calculator: 1, Status: Accepted, Detail: "x"},
	} {
		_, err := Marshal(a)
		assert.Error(t, err, "detail %q with status %d encoded", a.Detail, a.Status)
	}
	// The same refused on decoding: an accepted ack with a detail.
	b, _ = Marshal(&Ack{Calculator: 1, Status: Accepted})
	b[len(b)-1] = 1
	_, err = Unmarshal(append(b, 'x'))
	assert.Error(t, err, "accepted ack with a detail decoded")
}
