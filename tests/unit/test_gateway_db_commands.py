"""Backup and restore scripts for the gateway's database, by exact string."""

from llminfra.commands import gateway_db as db


def test_sqlite_copy_out_pauses_a_running_gateway_and_always_unpauses():
    assert db.sqlite_copy_out("/opt/llminfra/oneapi") == (
        "cd /opt/llminfra/oneapi && test -f compose.yaml && test -d data && "
        'if [ -n "$(docker compose ps -q --status running oneapi 2>/dev/null)" ]; then '
        "trap 'docker compose unpause oneapi >/dev/null 2>&1' EXIT HUP INT TERM && "
        "docker compose pause oneapi >/dev/null; fi && tar -C data -cf - .")


def test_sqlite_restore_swaps_data_while_stopped():
    assert db.sqlite_restore("/srv/gw dir") == (
        "cd '/srv/gw dir' && test -f compose.yaml && docker compose stop oneapi >/dev/null 2>&1; "
        "mkdir -p data && find data -mindepth 1 -delete && tar -C data -xf - && "
        "docker compose start oneapi >/dev/null")


def test_mysql_scripts_take_the_password_from_the_container():
    dump = db.mysql_dump("/opt/gw")
    assert dump == (
        "cd /opt/gw && test -f compose.yaml && docker compose exec -T mysql sh -c "
        "'MYSQL_PWD=\"$MYSQL_ROOT_PASSWORD\" exec mysqldump -uroot --single-transaction "
        "--routines --triggers --databases \"$MYSQL_DATABASE\"'")
    restore = db.mysql_restore("/opt/gw")
    assert restore == (
        "cd /opt/gw && test -f compose.yaml && docker compose stop oneapi >/dev/null 2>&1; "
        "docker compose exec -T mysql sh -c 'MYSQL_PWD=\"$MYSQL_ROOT_PASSWORD\" exec mysql "
        "-uroot' && docker compose start oneapi >/dev/null")


def test_remote_argv_quotes_the_script_once_and_adds_sudo_when_asked():
    assert db.remote_argv(["ssh", "u@h"], "echo 'a b'") == [
        "ssh", "u@h", "sh -c 'echo '\"'\"'a b'\"'\"''"]
    assert db.remote_argv(["ssh", "u@h"], "true", sudo=True) == ["ssh", "u@h", "sudo -n sh -c true"]
