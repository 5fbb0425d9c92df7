#!/bin/sh
# tls_certs.sh DIR [OPENSSL] - the certificates the TLS tests use, made with the openssl CLI (3.0 or later)
# into DIR (which exists; normally a fresh temporary directory):
#
#   ca.pem ca.key                 the test CA (EC P-256)
#   server.pem server.key         "localhost" and IP 127.0.0.1, signed by the CA (EC P-256)
#   rsa.pem rsa.key               the same names with an RSA-2048 key
#   expired.pem expired.key       "localhost", valid from 2020-01-01 to 2020-01-02 only
#   other.pem other.key           "other.example" only
#   client.pem client.key         a client certificate (CN=client, O=sea tests), signed by the CA
#   rogue-ca.pem rogue-ca.key     another CA, which nobody trusts
#   rogue-client.pem .key         a client certificate signed by the rogue CA
#   mismatch.key                  a key that belongs to none of the certificates
#
# `openssl x509 -req` of OpenSSL 3.0 cannot back-date a certificate (no -not_before/-not_after before
# 3.4, and -days must be positive), so every leaf is issued with `openssl ca`, whose -startdate and
# -enddate can, from a minimal configuration written here.  Prints nothing unless a step fails
# (then the step's output, and exit 1).
set -u
dir=$1
ossl=${2:-openssl}
cd "$dir" || exit 1

run() {
    if ! out=$("$ossl" "$@" 2>&1); then
        echo "tls_certs.sh: openssl $*: $out" >&2
        exit 1
    fi
}

ec_key() { run genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1"; }

mkdir -p ca.d rogue.d
: > ca.d/index.txt
: > rogue.d/index.txt
echo 1000 > ca.d/serial
echo 5000 > rogue.d/serial
cat > ca.cnf <<'EOF'
[ca]
default_ca = test_ca
[test_ca]
database = ca.d/index.txt
new_certs_dir = ca.d
serial = ca.d/serial
default_md = sha256
default_days = 3650
policy = any
unique_subject = no
copy_extensions = none
[rogue_ca]
database = rogue.d/index.txt
new_certs_dir = rogue.d
serial = rogue.d/serial
default_md = sha256
default_days = 3650
policy = any
unique_subject = no
copy_extensions = none
[any]
organizationName = optional
commonName = supplied
[localhost]
subjectAltName = DNS:localhost,IP:127.0.0.1
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
[other]
subjectAltName = DNS:other.example
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
[client]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
EOF

# The CAs: self-signed, 10 years.
for ca in ca rogue-ca; do
    ec_key $ca.key
    run req -x509 -new -key $ca.key -out $ca.pem -days 3650 -subj "/O=sea tests/CN=sea test $ca" \
        -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
done

# issue NAME SECTION SUBJECT CA [openssl ca options...]: NAME.key exists; CA (test_ca or rogue_ca) signs NAME.pem.
issue() {
    name=$1 ext=$2 subj=$3 which=$4
    shift 4
    cakey=ca
    [ "$which" = rogue_ca ] && cakey=rogue-ca
    run req -new -key "$name.key" -out "$name.csr" -subj "$subj"
    run ca -batch -config ca.cnf -name "$which" -cert "$cakey.pem" -keyfile "$cakey.key" -in "$name.csr" \
        -out "$name.pem" -extensions "$ext" -notext "$@"
}

ec_key server.key
issue server localhost "/O=sea tests/CN=localhost" test_ca
run genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out rsa.key
issue rsa localhost "/O=sea tests/CN=localhost" test_ca
ec_key expired.key
issue expired localhost "/O=sea tests/CN=localhost" test_ca -startdate 20200101000000Z -enddate 20200102000000Z
ec_key other.key
issue other other "/O=sea tests/CN=other.example" test_ca
ec_key client.key
issue client client "/O=sea tests/CN=client" test_ca
ec_key rogue-client.key
issue rogue-client client "/O=sea tests/CN=rogue client" rogue_ca
ec_key mismatch.key
exit 0
