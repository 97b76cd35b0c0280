# Turns an ASCII-armored OpenPGP public key (as AWS publishes its agent signing key) into the binary
# keyring that gpgv reads: dearmor.py KEY.asc KEY.gpg. Part of the fleetops.ssm.agent role.
import base64
import sys


def main(source, target):
    with open(source, encoding="ascii") as fh:
        text = fh.read()
    begin, end = "-----BEGIN PGP PUBLIC KEY BLOCK-----", "-----END PGP PUBLIC KEY BLOCK-----"
    if begin not in text or end not in text:
        sys.stderr.write(f"{source} holds no ASCII-armored public key\n")
        return 1
    lines = text.split(begin, 1)[1].split(end, 1)[0].strip("\r\n").splitlines()
    if "" in (line.strip() for line in lines):  # armor headers ("Version: ...") end with an empty line
        lines = lines[[line.strip() for line in lines].index("") + 1:]
    body = "".join(line.strip() for line in lines if not line.startswith("="))
    with open(target, "wb") as fh:
        fh.write(base64.b64decode(body))
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
