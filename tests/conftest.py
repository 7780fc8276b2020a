pytest_plugins = [
    "tests.fixtures.s3",
    "tests.fixtures.clamd",
    "tests.fixtures.database",
    "tests.fixtures.world",
]
