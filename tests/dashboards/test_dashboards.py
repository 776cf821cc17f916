"""The Prometheus rules and the Grafana dashboard in dashboards/, checked
against what pyhang really exports, and a real Prometheus scraping a real
`pyhang watch` until its PythonDeadlock alert fires.

Run: PYHANG_BIN=build/pyhang /usr/bin/python3 -m unittest -v test_dashboards
"""
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import unittest
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))
import pyhang_testlib as lib  # noqa: E402

DASHBOARDS = os.path.join(REPO, "dashboards")
METRICS_SOURCE = os.path.join(REPO, "collectors", "prometheus", "watch_metrics.cc")
PROMQL_FUNCTIONS_AND_WORDS = {"sum", "max", "min", "by", "rate", "increase", "time", "label_values",
                              "instance", "kind", "state", "pid", "on", "group_left"}


def exported_metric_names():
    with open(METRICS_SOURCE) as f:
        return set(re.findall(r'Name\("(pyhang_[a-z_]+)"\)', f.read()))


def metric_names_in(expr):
    return {name for name in re.findall(r"[a-zA-Z_:][a-zA-Z0-9_:]*", expr) if name.startswith("pyhang_")}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class StaticTest(unittest.TestCase):
    def test_rules_check_and_unit_tests_pass(self):
        for args in (["check", "rules", "alerts.yml"], ["test", "rules", "alerts_test.yml"]):
            result = subprocess.run(["promtool"] + args, cwd=DASHBOARDS, capture_output=True, text=True)
            self.assertEqual(result.returncode, 0, result.stdout + result.stderr)

    def test_rules_use_only_exported_metrics(self):
        exported = exported_metric_names()
        self.assertIn("pyhang_hangs_open", exported)
        with open(os.path.join(DASHBOARDS, "alerts.yml")) as f:
            exprs = re.findall(r"expr: (.*)", f.read())
        self.assertGreaterEqual(len(exprs), 5)
        for expr in exprs:
            self.assertLessEqual(metric_names_in(expr), exported, expr)

    def test_dashboard_is_provisionable_and_queries_exported_metrics(self):
        with open(os.path.join(DASHBOARDS, "pyhang.json")) as f:
            dashboard = json.load(f)
        self.assertIsNone(dashboard["id"])
        self.assertEqual(dashboard["uid"], "pyhang-watch")
        self.assertTrue(dashboard["title"])
        self.assertEqual([v["name"] for v in dashboard["templating"]["list"]], ["datasource", "instance", "pid"])
        exported = exported_metric_names()
        ids = set()
        for panel in dashboard["panels"]:
            self.assertNotIn(panel["id"], ids)
            ids.add(panel["id"])
            self.assertEqual(set(panel["gridPos"]), {"x", "y", "w", "h"})
            self.assertLessEqual(panel["gridPos"]["x"] + panel["gridPos"]["w"], 24)
            for target in panel["targets"]:
                used = metric_names_in(target["expr"])
                self.assertTrue(used, target["expr"])
                self.assertLessEqual(used, exported, "%s: %s" % (panel["title"], target["expr"]))


def metrics_interpreters():
    """Debian's python3, and the sid root's 3.14 and, in a new pid namespace
    as in a container, 3.15: the metrics must be right for all of them."""
    interpreters = [lib.Interpreter("system-python3", "/usr/bin/python3")]
    sid = {i.version: i for i in lib.sid_pythons({(3, 14), (3, 15)})}
    for version, pidns in (((3, 14), False), ((3, 15), True)):
        if version in sid:
            interpreters.append(sid[version].with_pidns() if pidns else sid[version])
        elif "%d.%d" % version in lib.required_pythons():
            raise AssertionError("PYHANG_REQUIRE_PYTHONS: no CPython %d.%d in the sid root %s "
                                 "(run tools/sid-root.sh)" % (version + (lib.SID_ROOT,)))
    return interpreters


class PrometheusEndToEndTest(unittest.TestCase):
    """Real Prometheus, real pyhang watch, the deadlocked demo program."""

    def setUp(self):
        if not shutil.which("prometheus"):
            self.fail("prometheus is not installed (tools/install-deps.sh installs it)")
        self.directory = lib.temp_dir("pyhang-prometheus-")
        self.processes = []

    def tearDown(self):
        for proc in reversed(self.processes):
            lib.kill(proc)
        shutil.rmtree(self.directory, ignore_errors=True)

    def start_demo(self, interpreter):
        """The demo's host pid, once both its threads are stuck."""
        ready = os.path.join(self.directory, "ready-" + interpreter.label)
        demo = lib.spawn(interpreter.argv([os.path.join(lib.WORKLOADS, "demo_deadlock.py"), ready]))
        self.processes.append(demo)
        pid = interpreter.target_pid(demo)
        deadline = time.monotonic() + 30
        while not os.path.exists(ready):
            self.assertIsNone(demo.poll(), "demo exited")
            self.assertLess(time.monotonic(), deadline, "demo did not start")
            time.sleep(0.05)
        return pid

    def start_watch(self, pid):
        stderr_path = os.path.join(self.directory, "watch-%d.err" % pid)
        stderr = open(stderr_path, "w")
        watch = lib.spawn([lib.pyhang_binary(), "watch", "--pid", str(pid), "--hang-threshold", "1",
                           "--metrics-addr", "127.0.0.1:0"], stdout=subprocess.DEVNULL, stderr=stderr)
        self.processes.append(watch)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with open(stderr_path) as f:
                match = re.search(r"serving metrics at (http://\S+)", f.read())
            if match:
                return match.group(1)
            self.assertIsNone(watch.poll(), "pyhang watch exited")
            time.sleep(0.1)
        self.fail("pyhang watch did not say where it serves metrics")

    def start_prometheus(self, metrics_url, label):
        target = metrics_url.split("//")[1].split("/")[0]
        directory = os.path.join(self.directory, "prometheus-" + label)
        os.makedirs(directory)
        shutil.copy(os.path.join(DASHBOARDS, "alerts.yml"), directory)
        config = os.path.join(directory, "prometheus.yml")
        with open(config, "w") as f:
            f.write("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                    "rule_files: [alerts.yml]\n"
                    "scrape_configs:\n  - job_name: pyhang\n    static_configs:\n"
                    "      - targets: ['%s']\n" % target)
        port = free_port()
        prometheus = lib.spawn(["prometheus", "--config.file=" + config,
                                "--storage.tsdb.path=" + os.path.join(directory, "data"),
                                "--web.listen-address=127.0.0.1:%d" % port],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.processes.append(prometheus)
        return "http://127.0.0.1:%d" % port

    @staticmethod
    def api(base, path):
        try:
            with urllib.request.urlopen(base + path, timeout=5) as response:
                return json.load(response)
        except OSError:
            return None

    def test_deadlock_alert_fires_from_a_real_scrape(self):
        for interpreter in metrics_interpreters():
            with self.subTest(interpreter=interpreter.label):
                self.deadlock_alert_fires(interpreter)
                for proc in reversed(self.processes):
                    lib.kill(proc)
                self.processes = []

    def deadlock_alert_fires(self, interpreter):
        pid = self.start_demo(interpreter)
        metrics_url = self.start_watch(pid)
        with urllib.request.urlopen(metrics_url, timeout=5) as response:
            scrape = response.read()
        lint = subprocess.run(["promtool", "check", "metrics"], input=scrape, capture_output=True)
        self.assertEqual(lint.returncode, 0, lint.stdout + lint.stderr)
        base = self.start_prometheus(metrics_url, interpreter.label)
        deadline = time.monotonic() + 90
        firing = []
        while time.monotonic() < deadline and not firing:
            time.sleep(1)
            alerts = self.api(base, "/api/v1/alerts")
            if alerts:
                firing = [a for a in alerts["data"]["alerts"]
                          if a["labels"]["alertname"] == "PythonDeadlock" and a["state"] == "firing"]
        self.assertTrue(firing, "PythonDeadlock did not fire within 90 s")
        result = self.api(base, '/api/v1/query?query=pyhang_threads%7Bstate%3D%22deadlock%22%7D')
        self.assertEqual(float(result["data"]["result"][0]["value"][1]), 2.0)
        info = self.api(base, "/api/v1/query?query=pyhang_target_info")["data"]["result"][0]["metric"]
        self.assertEqual(info["pid"], str(pid))  # the host's pid, also for a container
        # Every metric the rules and the dashboard query has samples in a real
        # scrape (a family declared in the source but never set would not).
        with urllib.request.urlopen(metrics_url, timeout=5) as response:
            scraped = sampled_metric_names(response.read().decode())
        self.assertLessEqual(referenced_metric_names(), scraped)


def sampled_metric_names(text):
    """Metric names with at least one sample line in a text exposition."""
    names = set()
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name = re.match(r"[a-zA-Z_:][a-zA-Z0-9_:]*", line).group(0)
            names.add(name)
            names.add(re.sub(r"_(bucket|sum|count)$", "", name))  # a histogram's family
    return names


def referenced_metric_names():
    """pyhang_* names used by dashboards/alerts.yml and dashboards/pyhang.json."""
    with open(os.path.join(DASHBOARDS, "alerts.yml")) as f:
        names = set().union(*(metric_names_in(e) for e in re.findall(r"expr: (.*)", f.read())))
    with open(os.path.join(DASHBOARDS, "pyhang.json")) as f:
        for panel in json.load(f)["panels"]:
            for target in panel.get("targets", []):
                names |= metric_names_in(target["expr"])
    return names


if __name__ == "__main__":
    unittest.main()
