// Package seal keeps tolerant's key material sealed at rest with age
// (filippo.io/age): every node's bundle is encrypted to that node's X25519
// recipient, and the dealer's own state to a passphrase (age's scrypt
// recipient). It also owns the layout of a cluster directory: the one place
// that writes it ([WriteCluster], [WritePlaintextCluster]) and reads it
// ([LoadPublic], [Cluster.Calculator], [LoadCalculator], ...).
//
// # Sealing
//
// [Seal] encrypts to one age recipient and returns ASCII-armored age
// ("-----BEGIN AGE ENCRYPTED FILE-----"), so that bundles survive copy and
// paste, mail and configuration management. [Open] decrypts with one or more
// identities. [SealWithPassphrase] and [OpenWithPassphrase] use age's scrypt
// recipient, with age's default work factor. age cannot mix X25519 and
// scrypt recipients in one file, so a file is sealed either to nodes or to a
// passphrase, never both.
//
// # Errors
//
// Opening fails with exactly one of these, tested with [errors.Is]:
//
//   - [ErrNotSealed]: the input is not age at all (a plaintext file, the
//     wrong file, or empty);
//   - [ErrWrongIdentity]: none of the identities is a recipient of the file
//     (another node's bundle, a file sealed to a passphrase, or a recipient
//     stanza altered in transit, which age cannot tell apart);
//   - [ErrWrongPassphrase]: the passphrase does not open the file;
//   - [ErrTampered]: the armor, the header or the payload does not decode or
//     authenticate: the file was corrupted, truncated or tampered with.
//
// No error ever carries plaintext, a passphrase or a secret key; errors that
// age would build by quoting the input are replaced by a fixed description.
//
// # Cluster directory
//
// [WriteCluster] writes, into a new or empty directory:
//
//	cluster.json          public metadata: key id, epoch, k, t, l, share length,
//	                      and every bundle's node, file name and recipient  (0644)
//	public.pem            the CA's public key, PKIX PEM                     (0644)
//	plan.json             the combiner plan (grouping.Plan), public         (0644)
//	roster.json           every node's packet-signing public key            (0644)
//	cluster.sig           the dealer's signature of the four files above    (0644)
//	distributor-N.age     distributor N's key, sealed to its recipient      (0600)
//	calculator-J.age      calculator J's shares, sealed to its recipient    (0600)
//	combiner-A.age        combiner A's second sub-keys, sealed likewise,
//	                      for every combiner in service ([InService])       (0600)
//	dealer.age            the dealer's state (d and every d_ji), sealed to
//	                      the dealer's passphrase                           (0600)
//
// [WritePlaintextCluster] writes the same layout with calculator-J.json,
// combiner-A.json, distributor-N.json and dealer.json in plaintext; callers
// offer it only behind a flag whose name says so (-insecure-plaintext-keys).
// Both check everything (all recipients present for all nodes, no file
// already there) before writing anything, create every file with O_EXCL, and
// remove what they wrote if a write fails.
//
// Recipients come from a text file read by [ParseRecipients], one node per
// line:
//
//	# role    number  recipient (printed by "tolerant keygen" on that node)
//	calculator 1 age1...
//	combiner   2 age1...
//	distributor 1 age1...
//
// Every bundle's plaintext is a signed bundle: the node's key material
// (package share's JSON) with the dealer's signature over its role, number,
// key id, epoch and the material itself. See "Origin" below.
//
// Identities are age identity files ([WriteIdentityFile], [ReadIdentityFile]),
// mode 0600. The in-process cluster of "tolerant sign" reads them from one
// directory as calculator-J.key, combiner-A.key and distributor-N.key
// ([IdentityFile]).
//
// # Binding a bundle to its node
//
// Age authenticates a file but not its name: calculator 3's bundle renamed
// calculator-2.age opens fine for whoever holds calculator 3's identity. The
// key material inside names its role (its format string) and its number, so
// loaders compare them with what the caller expects. [Cluster.Calculator],
// [Cluster.Combiner] and [Cluster.Distributor] do it, and also check the
// public key, key id, epoch, plan and roster against the public files.
// [LoadCalculator], [LoadCombiner] and [LoadDistributor] check the number
// against the file name when the name has the canonical form
// (calculator-J.age and so on) and fail with [ErrWrongNode]; for any other
// name the caller must compare the returned key's number itself.
//
// # Origin
//
// An age recipient is public, so anyone can seal a bundle to a node. The
// dealer therefore signs what it writes, with an Ed25519 key derived from
// its state ([share.Dealer.DealerKey]; the same for every dealing of that
// state, independent of every node key): every bundle (Ed25519ctx, RFC 8032
// section 5.1, over a label, the node, key id, epoch and the material), and
// cluster.sig, a manifest of the SHA-256 of every public file, so that the
// public files are checked as one set. The key material also names the
// dealer key (share.Meta.DealerKey).
//
// Every loader takes a [Trust]: the dealer key to accept (a node pins it
// from a flag or from its first bundle, [TrustOnFirstUse] and [Pin]), and
// optionally the one epoch to accept. Its zero value accepts nothing
// ([ErrNoTrust]); trust on first use is [Trust.InsecureTrustOnFirstUse].
// A bundle or public file signed by another dealer fails with
// [ErrWrongDealer], one whose signature does not verify (edited, forged,
// mixed from two dealings) with [ErrBadSignature], one of another epoch
// with [ErrWrongEpoch]. Bundles and directories written before dealers
// signed fail with [ErrUnsigned]: deal the cluster again. They are not
// readable through any insecure path, since an unsigned bundle is exactly
// what a forger writes. [LoadPublic] returns the dealer key in
// [Cluster.DealerKey], and [Cluster.Calculator] and the others accept only
// bundles of that dealer and of the cluster's epoch; [Cluster.Dealer]
// accepts only the state of that dealer.
package seal
