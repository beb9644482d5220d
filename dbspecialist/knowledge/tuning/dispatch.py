"""`tune(inputs)`: validate, then run the engine's calculator. Calculators are imported lazily."""

from __future__ import annotations

import importlib

from dbspecialist.knowledge.tuning.model import TuningInputs, TuningReport, validate

# engine → "module:function" under dbspecialist.knowledge.tuning
CALCULATORS: dict[str, str] = {
    "postgres": "postgres:tune_postgres",
    "pgbouncer": "pgbouncer:tune_pgbouncer",
    "mysql": "mysql:tune_mysql",
    "mariadb": "mysql:tune_mysql",
    "sqlite": "sqlite:tune_sqlite",
    "mongodb": "mongodb:tune_mongodb",
    "redis": "redis:tune_redis",
}


def tune(inputs: TuningInputs) -> TuningReport:
    validate(inputs)
    module_name, _, function = CALCULATORS[inputs.engine].partition(":")
    module = importlib.import_module(f"dbspecialist.knowledge.tuning.{module_name}")
    report: TuningReport = getattr(module, function)(inputs)
    return report
