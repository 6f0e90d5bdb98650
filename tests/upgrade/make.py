#!/usr/bin/env python3
"""Writes the upgrade test's data with an old careplan-relay binary (tests/upgrade.rs reads it).

    tests/upgrade/make.py OLD_BIN OLD_CHECKOUT OUT_DIR

OLD_BIN is `careplan-relay` built from an earlier commit, OLD_CHECKOUT that commit's tree (its fixtures are the
sets it accepted). For SQLite and for PostgreSQL (CAREPLAN_RELAY_TEST_PG, default
postgres://postgres@127.0.0.1:5432/test; a fresh database is made and dropped), in OUT_DIR/<backend>/: it registers
two offices, issues tokens (one then revoked), serves, sends three sets and one that is refused, downloads and
acknowledges two of them (saving their receipts) and leaves one pending, stops the server (SIGTERM), and keeps
  relay.db (SQLite, by VACUUM INTO) or dump.sql (PostgreSQL, pg_dump --inserts),
  keys/ (the node's receipt seed: test data only), and
  expected.json: the tokens, every submission with its status and files' SHA-256, the receipts, the event count.
"""
import hashlib, json, os, re, shutil, signal, sqlite3, subprocess, sys, tempfile, time, uuid

BIN, OLD, OUT = sys.argv[1], sys.argv[2], sys.argv[3]
CM, PROV = "1310000001", "1310000002"
PG_ADMIN = os.environ.get("CAREPLAN_RELAY_TEST_PG", "postgres://postgres@127.0.0.1:5432/test")


def run(data, url, *args, check=True):
    env = dict(os.environ, CAREPLAN_RELAY__DATABASE__URL=url)
    p = subprocess.run([BIN, "--data-dir", data, *args], env=env, capture_output=True, text=True)
    if check and p.returncode != 0:
        sys.exit(f"{args}: exit {p.returncode}\n{p.stdout}{p.stderr}")
    return p


def client(data, url, addr, token, *args):
    p = run(data, url, "client", "--url", f"https://{addr}", "--token", token,
            "--cacert", os.path.join(data, "tls", "ca.pem"), *args, check=False)
    return p.returncode, p.stdout + p.stderr


def files(unit):
    d = os.path.join(OLD, "fixtures", unit)
    return sorted(os.path.join(d, f) for f in os.listdir(d))


def scenario(data, url):
    run(data, url, "office", "add", CM, "--name", "居宅介護支援A", "--kind", "care_manager", "--service-type", "43")
    run(data, url, "office", "add", PROV, "--name", "訪問介護B", "--kind", "provider", "--service-type", "11")
    tokens = {}
    for name, who in [("care_manager", ["--office", CM]), ("provider", ["--office", PROV]),
                      ("admin", ["--admin"]), ("revoked", ["--office", PROV])]:
        out = run(data, url, "token", "issue", *who).stdout
        tokens[name] = out.strip().splitlines()[-1]
        if name == "revoked":
            token_id = re.search(r"token id: (\S+)", out).group(1)
            run(data, url, "token", "revoke", token_id)
    env = dict(os.environ, CAREPLAN_RELAY__DATABASE__URL=url, RUST_LOG="info")
    serve = subprocess.Popen([BIN, "--data-dir", data, "serve", "--listen", "127.0.0.1:0"], env=env,
                             stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    addr = None
    for line in serve.stderr:
        m = re.search(r"127\.0\.0\.1:(\d+)", line) if "listen" in line else None
        if m and m.group(1) != "0":
            addr = m.group(0)
            break
    assert addr, "serve did not say where it listens"
    cm, prov = tokens["care_manager"], tokens["provider"]
    for unit in ["valid/v4/plan", "valid/v4/schedule", "valid/v4/actual"]:
        code, out = client(data, url, addr, cm, "send", *files(unit))
        assert code == 0, out
    code, out = client(data, url, addr, cm, "send", *files("invalid/E_CODE-service_type_99"))
    assert code != 0, "the invalid set is refused"
    code, out = client(data, url, addr, prov, "inbox")
    items = json.loads(out)["items"]
    assert len(items) == 3, out
    receipts = []
    for item in items[:2]:
        d = item["delivery_id"]
        with tempfile.TemporaryDirectory() as got:
            code, out = client(data, url, addr, prov, "fetch", d, "--out", got)
            assert code == 0, out
        receipt = os.path.join(data, "receipt.json")
        code, out = client(data, url, addr, prov, "ack", d, "--receipt", receipt)
        assert code == 0, out
        receipts.append(json.load(open(receipt)))
    code, out = client(data, url, addr, cm, "outbox")
    outbox = json.loads(out)["items"]
    serve.send_signal(signal.SIGTERM)
    assert serve.wait(30) == 0
    verify = run(data, url, "audit", "verify").stdout
    sent = {}
    for unit in ["valid/v4/plan", "valid/v4/schedule", "valid/v4/actual"]:
        for f in files(unit):
            sent[os.path.basename(f)] = hashlib.sha256(open(f, "rb").read()).hexdigest()
    return {"tokens": tokens, "outbox": outbox, "inbox": items, "receipts": receipts,
            "sha256": sent, "audit_verify": json.loads(verify)}


def keep(data, dest, expected):
    shutil.copytree(os.path.join(data, "keys"), os.path.join(dest, "keys"))
    with open(os.path.join(dest, "expected.json"), "w") as f:
        json.dump(expected, f, ensure_ascii=False, indent=1)


def main():
    source = subprocess.run(["git", "-C", OLD, "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    for backend in ["sqlite", "postgres"]:
        dest = os.path.join(OUT, backend)
        shutil.rmtree(dest, ignore_errors=True)
        os.makedirs(dest)
        with tempfile.TemporaryDirectory() as data:
            if backend == "sqlite":
                db = os.path.join(data, "relay.db")
                expected = scenario(data, f"sqlite://{db}")
                sqlite3.connect(db).execute(f"VACUUM INTO '{os.path.join(dest, 'relay.db')}'")
            else:
                name = "relay_upgrade_" + uuid.uuid4().hex
                base = PG_ADMIN.rsplit("/", 1)[0]
                subprocess.run(["psql", PG_ADMIN, "-qc", f"create database {name}"], check=True)
                try:
                    expected = scenario(data, f"{base}/{name}")
                    subprocess.run(["pg_dump", "--inserts", "--no-owner", "--no-privileges", "--file",
                                    os.path.join(dest, "dump.sql"), f"{base}/{name}"], check=True)
                finally:
                    subprocess.run(["psql", PG_ADMIN, "-qc", f"drop database {name} with (force)"], check=True)
            expected["written_by"] = source.stdout.strip()
            keep(data, dest, expected)
        print(f"{dest}: written")


main()
