#!/usr/bin/env python3
"""Writes the MLflow import fixtures: test/fixtures/mlflow-import/mlruns/ (MLflow's
FileStore layout) and test/fixtures/mlflow-import/mlflow.db (MLflow's SQLAlchemy
store on SQLite), plus mlartifacts/ for the database's server-style artifact URIs.

Python standard library only (MLflow is not needed): the files are written as
MLflow writes them. Each structure names the MLflow source file it follows:
  - mlflow/store/tracking/file_store.py          (FileStore: mlruns/ tree)
  - mlflow/store/model_registry/file_store.py    (FileStore: mlruns/models/)
  - mlflow/store/tracking/dbmodels/models.py     (tracking tables)
  - mlflow/store/model_registry/dbmodels/models.py (registry tables)
  - mlflow/store/tracking/sqlalchemy_store.py    (NaN / Inf encoding of metrics)
Both fixtures hold the same content: Default (id 0, no runs), an active experiment
with two runs (a parent and a failed child), a deleted experiment with one deleted
run, a registered model with two versions and a `champion` alias.

Usage: python3 scripts/mlflow-fixtures.py   (rewrites the fixture folder)
"""

import math
import os
import shutil
import sqlite3

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "test", "fixtures", "mlflow-import")
# Where the runs were logged originally. It does not exist on the machine that imports,
# as when an mlruns folder is copied from another machine: the importer must use the
# folder it is given, not the absolute URIs recorded inside it.
ORIGIN = "/tmp/mlflow-fixture/mlruns"

# RunStatus enum (mlflow/protos/service.proto): FileStore meta.yaml stores the number.
RUNNING, SCHEDULED, FINISHED, FAILED, KILLED = 1, 2, 3, 4, 5
STATUS_NAME = {1: "RUNNING", 2: "SCHEDULED", 3: "FINISHED", 4: "FAILED", 5: "KILLED"}
SOURCE_TYPE_LOCAL = 4  # SourceType.LOCAL, written by _make_persisted_run_info_dict

RUN_A = "5f1c0b7e9a2d4c6b8e3f1a0d2c4b6e8f"
RUN_B = "a3d9e1f07b2c4d5e8f6a9b0c1d2e3f4a"
RUN_C = "c7e2a9b4d1f04e3a8b5c6d7e8f9a0b1c"

# FileStore experiment ids come from _generate_unique_integer_id (large random
# integers, stored as strings); the SQL store numbers them 1, 2, ...
EXPERIMENTS = [
    {
        "file_id": "0",
        "db_id": 0,
        "name": "Default",
        "lifecycle_stage": "active",
        "creation_time": 1699990000000,
        "tags": {},
    },
    {
        "file_id": "146210397284561735",
        "db_id": 1,
        "name": "churn-model",
        "lifecycle_stage": "active",
        "creation_time": 1699999000000,
        "tags": {"mlflow.note.content": "Churn prediction experiments", "team": "ml"},
    },
    {
        "file_id": "902834716510293847",
        "db_id": 2,
        "name": "old-sweep",
        "lifecycle_stage": "deleted",
        "creation_time": 1689990000000,
        "last_update_time": 1695000000000,
        "tags": {},
    },
]

T0 = 1700000000000
RUNS = [
    {
        "run_id": RUN_A,
        "experiment": 1,
        "run_name": "baseline",
        "user_id": "ada",
        "status": FINISHED,
        "start_time": T0,
        "end_time": T0 + 4000,
        "lifecycle_stage": "active",
        "deleted_time": None,
        "params": {
            "learning_rate": "0.01",
            "epochs": "3",
            # A key with '/' is a nested file under params/ (FileStore._get_param_path).
            "optimizer/name": "adam",
            "optimizer/momentum": "0.9",
        },
        "tags": {
            "mlflow.runName": "baseline",
            "mlflow.user": "ada",
            "mlflow.source.name": "train.py",
            "mlflow.source.type": "LOCAL",
            "mlflow.note.content": "First baseline",
            "team": "ml",
        },
        # key -> [(timestamp, value, step)]
        "metrics": {
            "loss": [(T0 + 1000, 0.9, 0), (T0 + 2000, 0.6, 1), (T0 + 3000, 0.4, 2)],
            "accuracy": [(T0 + 1000, 0.5, 0), (T0 + 2000, math.nan, 1), (T0 + 3000, 0.8, 2)],
            "val/loss": [(T0 + 1500, 0.7, 0), (T0 + 3500, 0.5, 2)],
        },
        "artifacts": {
            "model/MLmodel": b"artifact_path: model\nflavors:\n  sklearn:\n    pickled_model: model.pkl\n",
            # Not valid UTF-8: the import must copy bytes, not text.
            "model/model.pkl": bytes([0x80, 0x04, 0x95, 0x00, 0xFF, 0xFE, 0x2E]),
        },
    },
    {
        "run_id": RUN_B,
        "experiment": 1,
        "run_name": "child-trial",
        "user_id": "ada",
        "status": FAILED,
        "start_time": T0 + 5000,
        "end_time": T0 + 7000,
        "lifecycle_stage": "active",
        "deleted_time": None,
        "params": {"learning_rate": "0.1", "epochs": "3"},
        "tags": {
            "mlflow.runName": "child-trial",
            "mlflow.user": "ada",
            "mlflow.source.type": "LOCAL",
            "mlflow.parentRunId": RUN_A,
        },
        "metrics": {"loss": [(T0 + 5500, 1.2, 0), (T0 + 6500, math.inf, 1)]},
        "artifacts": {},
    },
    {
        "run_id": RUN_C,
        "experiment": 2,
        "run_name": "old-run",
        "user_id": "bob",
        "status": KILLED,
        "start_time": 1690000000000,
        "end_time": 1690000001000,
        # FileStore.delete_experiment marks the experiment's runs deleted too.
        "lifecycle_stage": "deleted",
        "deleted_time": 1695000000000,
        "params": {"learning_rate": "0.5"},
        "tags": {"mlflow.runName": "old-run", "mlflow.user": "bob"},
        "metrics": {"loss": [(1690000000200, 2.5, 0), (1690000000600, 2.1, 1)]},
        "artifacts": {},
    },
]

MODEL = {
    "name": "churn-classifier",
    "description": "Predicts churn from account activity",
    "creation_timestamp": T0 + 10000,
    "last_updated_timestamp": T0 + 13000,
    "tags": {"owner": "ml-team"},
    "versions": [
        {
            "version": 1,
            "run_id": RUN_A,
            # register_model("runs:/<id>/model") records the resolved artifact URI.
            "source": f"file://{ORIGIN}/146210397284561735/{RUN_A}/artifacts/model",
            "description": "baseline model",
            "creation_timestamp": T0 + 11000,
            "tags": {"validation": "passed"},
        },
        {
            "version": 2,
            "run_id": RUN_B,
            "source": f"runs:/{RUN_B}/model",
            "description": None,
            "creation_timestamp": T0 + 12000,
            "tags": {},
        },
    ],
    "aliases": {"champion": 1},
}


# ------------------------------------------------------------------ YAML
# MLflow writes meta.yaml with yaml.safe_dump(default_flow_style=False), keys sorted
# (mlflow/utils/file_utils.py write_yaml). This emulates it for the plain values used here.


def _yaml_scalar(v):
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    s = str(v)
    # PyYAML quotes strings that would read back as another type, or that are empty.
    plain_ok = (
        s != ""
        and s.lower() not in ("null", "~", "true", "false", "yes", "no", "on", "off")
        and not _looks_numeric(s)
        and not s[0] in "!&*-?:,[]{}#|>@`\"'% "
        and ": " not in s
        and " #" not in s
        and not s.endswith(" ")
    )
    return s if plain_ok else "'" + s.replace("'", "''") + "'"


def _looks_numeric(s):
    try:
        int(s)
        return True
    except ValueError:
        pass
    try:
        float(s)
        return "." in s or s.lower() in ("nan", "inf", "-inf", ".inf")
    except ValueError:
        return False


def dump_yaml(d, indent=0):
    lines = []
    pad = "  " * indent
    for k in sorted(d):
        v = d[k]
        if isinstance(v, dict):
            if not v:
                lines.append(f"{pad}{k}: {{}}")
            else:
                lines.append(f"{pad}{k}:")
                lines.append(dump_yaml(v, indent + 1).rstrip("\n"))
        elif isinstance(v, list):
            if not v:
                lines.append(f"{pad}{k}: []")
            else:
                lines.append(f"{pad}{k}:")
                lines.extend(f"{pad}- {_yaml_scalar(x)}" for x in v)
        else:
            lines.append(f"{pad}{k}: {_yaml_scalar(v)}")
    return "\n".join(lines) + "\n"


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    mode = "wb" if isinstance(data, bytes) else "w"
    with open(path, mode) as f:
        f.write(data)


def write_key_files(folder, values):
    # Params and tags: one file per key, the value as the whole content, no newline
    # (FileStore._log_run_param / _set_run_tag use write_to).
    for key, value in values.items():
        write(os.path.join(folder, *key.split("/")), value)


def py_float(v):
    # FileStore._log_run_metric writes f"{metric.value}": Python's repr (nan, inf, 0.5).
    return f"{v}"


# ------------------------------------------------------------------ mlruns/


def write_mlruns(root):
    exps = {i: e for i, e in enumerate(EXPERIMENTS)}
    os.makedirs(os.path.join(root, ".trash"), exist_ok=True)
    for e in EXPERIMENTS:
        deleted = e["lifecycle_stage"] == "deleted"
        # FileStore.delete_experiment moves the folder to .trash/ (after writing
        # lifecycle_stage: deleted into its meta.yaml).
        exp_dir = os.path.join(root, ".trash" if deleted else "", e["file_id"])
        os.makedirs(exp_dir, exist_ok=True)
        # FileStore._create_experiment_with_id: dict(Experiment) without tags.
        write(
            os.path.join(exp_dir, "meta.yaml"),
            dump_yaml(
                {
                    "artifact_location": f"file://{ORIGIN}/{e['file_id']}",
                    "creation_time": e["creation_time"],
                    "experiment_id": e["file_id"],
                    "last_update_time": e.get("last_update_time", e["creation_time"]),
                    "lifecycle_stage": e["lifecycle_stage"],
                    "name": e["name"],
                }
            ),
        )
        # FileStore.set_experiment_tag: <exp>/tags/<key>.
        write_key_files(os.path.join(exp_dir, "tags"), e["tags"])
    for r in RUNS:
        e = exps[r["experiment"]]
        deleted_exp = e["lifecycle_stage"] == "deleted"
        run_dir = os.path.join(root, ".trash" if deleted_exp else "", e["file_id"], r["run_id"])
        # FileStore.create_run + _make_persisted_run_info_dict: status as the enum number,
        # experiment_id as a string, legacy source_* fields, tags: [].
        write(
            os.path.join(run_dir, "meta.yaml"),
            dump_yaml(
                {
                    "artifact_uri": f"file://{ORIGIN}/{e['file_id']}/{r['run_id']}/artifacts",
                    "deleted_time": r["deleted_time"],
                    "end_time": r["end_time"],
                    "entry_point_name": "",
                    "experiment_id": e["file_id"],
                    "lifecycle_stage": r["lifecycle_stage"],
                    "run_id": r["run_id"],
                    "run_name": r["run_name"],
                    "run_uuid": r["run_id"],
                    "source_name": "",
                    "source_type": SOURCE_TYPE_LOCAL,
                    "source_version": "",
                    "start_time": r["start_time"],
                    "status": r["status"],
                    "tags": [],
                    "user_id": r["user_id"],
                }
            ),
        )
        write_key_files(os.path.join(run_dir, "params"), r["params"])
        write_key_files(os.path.join(run_dir, "tags"), r["tags"])
        # FileStore._log_run_metric appends "<timestamp> <value> <step>\n" per point.
        for key, points in r["metrics"].items():
            text = "".join(f"{ts} {py_float(v)} {step}\n" for ts, v, step in points)
            write(os.path.join(run_dir, "metrics", *key.split("/")), text)
        # create_run makes artifacts/ beside meta.yaml (the default artifact root is the
        # store root: <exp>/<run>/artifacts, FileStore._get_artifact_dir).
        os.makedirs(os.path.join(run_dir, "artifacts"), exist_ok=True)
        for rel, data in r["artifacts"].items():
            write(os.path.join(run_dir, "artifacts", *rel.split("/")), data)
        if not r["artifacts"]:
            # Git keeps no empty folders; a placeholder would be imported as an artifact,
            # so the empty artifacts/ is simply absent for these runs.
            os.rmdir(os.path.join(run_dir, "artifacts"))

    # Model registry (mlflow/store/model_registry/file_store.py): mlruns/models/<name>/.
    m = MODEL
    model_dir = os.path.join(root, "models", m["name"])
    # _save_registered_model_as_meta_file: dict(RegisteredModel) without tags and
    # latest_versions; `aliases` is the {alias: version} map as last saved (the
    # version read back from the alias file, a string).
    write(
        os.path.join(model_dir, "meta.yaml"),
        dump_yaml(
            {
                "aliases": {a: str(v) for a, v in m["aliases"].items()},
                "creation_timestamp": m["creation_timestamp"],
                "description": m["description"],
                "last_updated_timestamp": m["last_updated_timestamp"],
                "name": m["name"],
            }
        ),
    )
    write_key_files(os.path.join(model_dir, "tags"), m["tags"])
    for v in m["versions"]:
        vdir = os.path.join(model_dir, f"version-{v['version']}")
        # _save_model_version_as_meta_file: dict(FileModelVersion) without tags.
        write(
            os.path.join(vdir, "meta.yaml"),
            dump_yaml(
                {
                    "aliases": [],
                    "creation_timestamp": v["creation_timestamp"],
                    "current_stage": "None",
                    "description": v["description"],
                    "last_updated_timestamp": v["creation_timestamp"],
                    "name": m["name"],
                    "run_id": v["run_id"],
                    "run_link": None,
                    "source": v["source"],
                    "status": "READY",
                    "status_message": None,
                    "storage_location": v["source"],
                    "user_id": None,
                    "version": v["version"],
                }
            ),
        )
        write_key_files(os.path.join(vdir, "tags"), v["tags"])
    # set_registered_model_alias: aliases/<alias> holds the version number.
    for alias, version in m["aliases"].items():
        write(os.path.join(model_dir, "aliases", alias), str(version))


# ------------------------------------------------------------------ mlflow.db

# The tables as SQLAlchemy creates them on SQLite from the dbmodels (column names,
# types, keys and checks as declared there).
SCHEMA = """
CREATE TABLE alembic_version (
  version_num VARCHAR(32) NOT NULL,
  CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
);
CREATE TABLE experiments (
  experiment_id INTEGER NOT NULL,
  name VARCHAR(256) NOT NULL,
  artifact_location VARCHAR(256),
  lifecycle_stage VARCHAR(32),
  creation_time BIGINT,
  last_update_time BIGINT,
  CONSTRAINT experiment_pk PRIMARY KEY (experiment_id),
  UNIQUE (name),
  CONSTRAINT experiments_lifecycle_stage CHECK (lifecycle_stage IN ('active', 'deleted'))
);
CREATE TABLE experiment_tags (
  key VARCHAR(250) NOT NULL,
  value VARCHAR(5000),
  experiment_id INTEGER NOT NULL,
  CONSTRAINT experiment_tag_pk PRIMARY KEY (key, experiment_id),
  FOREIGN KEY(experiment_id) REFERENCES experiments (experiment_id)
);
CREATE TABLE runs (
  run_uuid VARCHAR(32) NOT NULL,
  name VARCHAR(250),
  source_type VARCHAR(20),
  source_name VARCHAR(500),
  entry_point_name VARCHAR(50),
  user_id VARCHAR(256),
  status VARCHAR(9),
  start_time BIGINT,
  end_time BIGINT,
  deleted_time BIGINT,
  source_version VARCHAR(50),
  lifecycle_stage VARCHAR(20),
  artifact_uri VARCHAR(200),
  experiment_id INTEGER,
  CONSTRAINT run_pk PRIMARY KEY (run_uuid),
  CONSTRAINT source_type CHECK (source_type IN ('NOTEBOOK', 'JOB', 'LOCAL', 'UNKNOWN', 'PROJECT')),
  CONSTRAINT status CHECK (status IN ('SCHEDULED', 'FAILED', 'FINISHED', 'RUNNING', 'KILLED')),
  CONSTRAINT runs_lifecycle_stage CHECK (lifecycle_stage IN ('active', 'deleted')),
  FOREIGN KEY(experiment_id) REFERENCES experiments (experiment_id)
);
CREATE TABLE tags (
  key VARCHAR(250) NOT NULL,
  value VARCHAR(5000),
  run_uuid VARCHAR(32) NOT NULL,
  CONSTRAINT tag_pk PRIMARY KEY (key, run_uuid),
  FOREIGN KEY(run_uuid) REFERENCES runs (run_uuid)
);
CREATE INDEX index_tags_run_uuid ON tags (run_uuid);
CREATE TABLE params (
  key VARCHAR(250) NOT NULL,
  value VARCHAR(8000) NOT NULL,
  run_uuid VARCHAR(32) NOT NULL,
  CONSTRAINT param_pk PRIMARY KEY (key, run_uuid),
  FOREIGN KEY(run_uuid) REFERENCES runs (run_uuid)
);
CREATE INDEX index_params_run_uuid ON params (run_uuid);
CREATE TABLE metrics (
  key VARCHAR(250) NOT NULL,
  value FLOAT NOT NULL,
  timestamp BIGINT NOT NULL,
  step BIGINT DEFAULT '0' NOT NULL,
  is_nan BOOLEAN DEFAULT '0' NOT NULL,
  run_uuid VARCHAR(32) NOT NULL,
  CONSTRAINT metric_pk PRIMARY KEY (key, timestamp, step, run_uuid, value, is_nan),
  CHECK (is_nan IN (0, 1)),
  FOREIGN KEY(run_uuid) REFERENCES runs (run_uuid)
);
CREATE INDEX index_metrics_run_uuid ON metrics (run_uuid);
CREATE TABLE latest_metrics (
  key VARCHAR(250) NOT NULL,
  value FLOAT NOT NULL,
  timestamp BIGINT,
  step BIGINT NOT NULL,
  is_nan BOOLEAN NOT NULL,
  run_uuid VARCHAR(32) NOT NULL,
  CONSTRAINT latest_metric_pk PRIMARY KEY (key, run_uuid),
  CHECK (is_nan IN (0, 1)),
  FOREIGN KEY(run_uuid) REFERENCES runs (run_uuid)
);
CREATE INDEX index_latest_metrics_run_uuid ON latest_metrics (run_uuid);
CREATE TABLE registered_models (
  name VARCHAR(256) NOT NULL,
  creation_time BIGINT,
  last_updated_time BIGINT,
  description VARCHAR(5000),
  CONSTRAINT registered_model_pk PRIMARY KEY (name),
  UNIQUE (name)
);
CREATE TABLE registered_model_tags (
  key VARCHAR(250) NOT NULL,
  value VARCHAR(5000),
  name VARCHAR(256) NOT NULL,
  CONSTRAINT registered_model_tag_pk PRIMARY KEY (key, name),
  FOREIGN KEY(name) REFERENCES registered_models (name) ON UPDATE cascade
);
CREATE TABLE model_versions (
  name VARCHAR(256) NOT NULL,
  version INTEGER NOT NULL,
  creation_time BIGINT,
  last_updated_time BIGINT,
  description VARCHAR(5000),
  user_id VARCHAR(256),
  current_stage VARCHAR(20),
  source VARCHAR(500),
  run_id VARCHAR(32),
  run_link VARCHAR(500),
  status VARCHAR(20),
  status_message VARCHAR(500),
  storage_location VARCHAR(500),
  CONSTRAINT model_version_pk PRIMARY KEY (name, version),
  FOREIGN KEY(name) REFERENCES registered_models (name) ON UPDATE cascade
);
CREATE TABLE model_version_tags (
  key VARCHAR(250) NOT NULL,
  value VARCHAR(5000),
  name VARCHAR(256) NOT NULL,
  version INTEGER NOT NULL,
  CONSTRAINT model_version_tag_pk PRIMARY KEY (key, name, version),
  FOREIGN KEY(name, version) REFERENCES model_versions (name, version) ON UPDATE cascade
);
CREATE TABLE registered_model_aliases (
  alias VARCHAR(256) NOT NULL,
  version INTEGER NOT NULL,
  name VARCHAR(256) NOT NULL,
  CONSTRAINT registered_model_alias_pk PRIMARY KEY (name, alias),
  CONSTRAINT registered_model_alias_name_fkey FOREIGN KEY(name)
    REFERENCES registered_models (name) ON DELETE cascade ON UPDATE cascade
);
"""

FLOAT_MAX = 1.7976931348623157e308


def sql_metric_value(v):
    # SqlAlchemyStore._get_metric_value_details: NaN is stored as 0 with is_nan = 1,
    # +/-Inf as +/-max float ("Sql can not represent Infs").
    if math.isnan(v):
        return 0.0, 1
    if math.isinf(v):
        return (FLOAT_MAX if v > 0 else -FLOAT_MAX), 0
    return v, 0


def write_db(path, artifacts_root):
    if os.path.exists(path):
        os.remove(path)
    con = sqlite3.connect(path)
    # Small pages keep the committed fixture small; MLflow leaves SQLite's default.
    con.execute("PRAGMA page_size = 1024")
    con.executescript(SCHEMA)
    # A revision id from mlflow/store/db_migrations/versions/; the importer ignores it.
    con.execute("INSERT INTO alembic_version VALUES ('0584bdc529eb')")
    for e in EXPERIMENTS:
        con.execute(
            "INSERT INTO experiments VALUES (?, ?, ?, ?, ?, ?)",
            (
                e["db_id"],
                e["name"],
                # A tracking server with the default --artifacts-destination ./mlartifacts
                # records proxied artifact URIs (mlflow-artifacts:/<exp>).
                f"mlflow-artifacts:/{e['db_id']}",
                e["lifecycle_stage"],
                e["creation_time"],
                e.get("last_update_time", e["creation_time"]),
            ),
        )
        for k, v in e["tags"].items():
            con.execute("INSERT INTO experiment_tags VALUES (?, ?, ?)", (k, v, e["db_id"]))
    artifact_uris = {
        # Served by the tracking server from <db folder>/mlartifacts/.
        RUN_A: f"mlflow-artifacts:/1/{RUN_A}/artifacts",
        # On object storage: cannot be copied, must be reported.
        RUN_B: f"s3://example-bucket/mlflow/1/{RUN_B}/artifacts",
        # A local folder that is not on this machine.
        RUN_C: f"{ORIGIN}/2/{RUN_C}/artifacts",
    }
    for r in RUNS:
        e = EXPERIMENTS[r["experiment"]]
        con.execute(
            "INSERT INTO runs (run_uuid, name, source_type, source_name, entry_point_name, user_id,"
            " status, start_time, end_time, deleted_time, source_version, lifecycle_stage,"
            " artifact_uri, experiment_id) VALUES (?, ?, 'LOCAL', '', '', ?, ?, ?, ?, ?, '', ?, ?, ?)",
            (
                r["run_id"],
                r["run_name"],
                r["user_id"],
                STATUS_NAME[r["status"]],
                r["start_time"],
                r["end_time"],
                r["deleted_time"],
                r["lifecycle_stage"],
                artifact_uris[r["run_id"]],
                e["db_id"],
            ),
        )
        for k, v in r["params"].items():
            con.execute("INSERT INTO params VALUES (?, ?, ?)", (k, v, r["run_id"]))
        for k, v in r["tags"].items():
            con.execute("INSERT INTO tags VALUES (?, ?, ?)", (k, v, r["run_id"]))
        for key, points in r["metrics"].items():
            for ts, v, step in points:
                value, is_nan = sql_metric_value(v)
                con.execute(
                    "INSERT INTO metrics (key, value, timestamp, step, is_nan, run_uuid)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    (key, value, ts, step, is_nan, r["run_id"]),
                )
            # latest_metrics keeps the max by (step, timestamp, value), NaN lowest
            # (SqlAlchemyStore._update_latest_metrics_if_necessary).
            ts, v, step = max(points, key=lambda p: (p[2], p[0], -math.inf if math.isnan(p[1]) else p[1]))
            value, is_nan = sql_metric_value(v)
            con.execute(
                "INSERT INTO latest_metrics VALUES (?, ?, ?, ?, ?, ?)",
                (key, value, ts, step, is_nan, r["run_id"]),
            )
        if r["artifacts"] and artifact_uris[r["run_id"]].startswith("mlflow-artifacts:/"):
            base = os.path.join(artifacts_root, *artifact_uris[r["run_id"]][len("mlflow-artifacts:/"):].split("/"))
            for rel, data in r["artifacts"].items():
                write(os.path.join(base, *rel.split("/")), data)
    m = MODEL
    con.execute(
        "INSERT INTO registered_models VALUES (?, ?, ?, ?)",
        (m["name"], m["creation_timestamp"], m["last_updated_timestamp"], m["description"]),
    )
    for k, v in m["tags"].items():
        con.execute("INSERT INTO registered_model_tags VALUES (?, ?, ?)", (k, v, m["name"]))
    for v in m["versions"]:
        con.execute(
            "INSERT INTO model_versions (name, version, creation_time, last_updated_time,"
            " description, user_id, current_stage, source, run_id, run_link, status,"
            " status_message, storage_location) VALUES (?, ?, ?, ?, ?, NULL, 'None', ?, ?, NULL,"
            " 'READY', NULL, ?)",
            (
                m["name"],
                v["version"],
                v["creation_timestamp"],
                v["creation_timestamp"],
                v["description"],
                v["source"],
                v["run_id"],
                v["source"],
            ),
        )
        for k, val in v["tags"].items():
            con.execute(
                "INSERT INTO model_version_tags VALUES (?, ?, ?, ?)", (k, val, m["name"], v["version"])
            )
    for alias, version in m["aliases"].items():
        con.execute("INSERT INTO registered_model_aliases VALUES (?, ?, ?)", (alias, version, m["name"]))
    con.commit()
    # Rollback journal (MLflow's SQLite default), so the .db file alone holds everything.
    con.execute("VACUUM")
    con.close()


def main():
    out = os.path.normpath(OUT)
    for name in ("mlruns", "mlartifacts"):
        shutil.rmtree(os.path.join(out, name), ignore_errors=True)
    os.makedirs(out, exist_ok=True)
    write_mlruns(os.path.join(out, "mlruns"))
    write_db(os.path.join(out, "mlflow.db"), os.path.join(out, "mlartifacts"))
    total = 0
    for folder, _, files in os.walk(out):
        total += sum(os.path.getsize(os.path.join(folder, f)) for f in files)
    print(f"wrote {os.path.relpath(out)} ({total} bytes)")


if __name__ == "__main__":
    main()
