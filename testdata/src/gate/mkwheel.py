"""mkwheel.py OUT.whl DIR - zip DIR into a wheel deterministically.

Entries sorted, timestamps 1980-01-01, modes 0644 (0755 for binaries), a
RECORD with sha256 digests written last, as pip/wheel do.
"""
import base64
import hashlib
import os
import sys
import zipfile

out, root = sys.argv[1], sys.argv[2]
files = []
for d, _, names in os.walk(root):
    for n in names:
        full = os.path.join(d, n)
        files.append(os.path.relpath(full, root).replace(os.sep, "/"))
files.sort()
record_name = next(f for f in files if f.endswith(".dist-info/WHEEL")).rsplit("/", 1)[0] + "/RECORD"
records = []
with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
    for f in files:
        data = open(os.path.join(root, f), "rb").read()
        info = zipfile.ZipInfo(f, date_time=(1980, 1, 1, 0, 0, 0))
        binary = data[:4] in (b"\x7fELF", b"\xca\xfe\xba\xbe", b"\xcf\xfa\xed\xfe") or data[:2] == b"MZ"
        info.external_attr = (0o100755 if binary else 0o100644) << 16
        info.compress_type = zipfile.ZIP_DEFLATED
        z.writestr(info, data)
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        records.append(f"{f},sha256={digest},{len(data)}")
    records.append(f"{record_name},,")
    info = zipfile.ZipInfo(record_name, date_time=(1980, 1, 1, 0, 0, 0))
    info.external_attr = 0o100644 << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    z.writestr(info, "\n".join(records) + "\n")
