from tests.support.harness import count_events


def test_init_and_register_professional(run, store):
    result = run("professional", "register", "R-1", "--name", "Anna", "--group", "nurse", "--registered-on", "2024-01-01")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "Professional R-1 registered on 2024-01-01.\n"
    assert count_events(store) == 1  # the registration (its id guarded by the key store, SPEC §9)
