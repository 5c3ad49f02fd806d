"""The Python module `chassis` (python/chassis_python.cpp) against the `chassis` command: the
same runs, posteriors, verdicts, counterexamples and network outputs for the same inputs, and
bad input raised as chassis.Error with its location.

Run by ctest (python/chassis_module) with PYTHONPATH at the built module, CHASSIS_SOURCE_DIR and
CHASSIS_BINARY (the command) set."""

import json
import os
import subprocess
import tempfile
import unittest

import numpy as np

import chassis

SRC = os.environ["CHASSIS_SOURCE_DIR"]
CLI = os.environ["CHASSIS_BINARY"]
BRAKING = os.path.join(SRC, "examples", "braking.chs")
POLICY = os.path.join(SRC, "examples", "braking_policy.onnx")
SPRINKLER = os.path.join(SRC, "examples", "sprinkler.chs")
SCHOOLS = os.path.join(SRC, "examples", "eight_schools.chs")
SCHOOLS_DATA = os.path.join(SRC, "examples", "eight_schools.data.json")
VNNCOMP = os.path.join(SRC, "tests", "data", "vnncomp")


def cli(*args, ok_codes=(0,)):
    """The command's standard output (its exit code must be in ok_codes)."""
    proc = subprocess.run([CLI, *args], capture_output=True, text=True)
    if proc.returncode not in ok_codes:
        raise AssertionError(f"chassis {' '.join(args)}: exit {proc.returncode}: {proc.stderr}")
    return proc.stdout


class ProgramTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.braking = chassis.load(BRAKING)

    def test_names(self):
        self.assertEqual(self.braking.modules, ["Sensor", "Controller", "Braking"])
        self.assertEqual(self.braking.networks, ["Policy"])
        self.assertEqual(self.braking.properties,
                         ["brakes_when_close", "monotone_in_distance", "rarely_late",
                          "never_late_when_slow"])

    def test_run_matches_the_command(self):
        for module, inputs, seed, args in [
                ("Controller", {"reading": 3, "speed": 20}, 0,
                 ["--input", "reading=3", "--input", "speed=20"]),
                ("Controller", {"reading": 150.5, "speed": np.float64(40)}, 0,
                 ["--input", "reading=150.5", "--input", "speed=40"]),
                ("Braking", {}, 7, []),
                ("Policy", {"x": np.array([30.0, 10.0])}, 0, ["--input", "x=[30,10]"])]:
            with self.subTest(module=module, inputs=inputs):
                got = self.braking.run(module, inputs, seed=seed)
                want = json.loads(cli("run", BRAKING, module, "--json", "--seed", str(seed),
                                      *args))["results"][0]
                self.assertEqual(set(got["outputs"]), set(want["outputs"]))
                for name, value in want["outputs"].items():
                    if isinstance(value, list):
                        self.assertIsInstance(got["outputs"][name], np.ndarray)
                        self.assertEqual(got["outputs"][name].tolist(), value)
                    else:
                        self.assertEqual(got["outputs"][name], value)
                        self.assertIs(type(got["outputs"][name]), type(value))
                self.assertEqual([c["address"] for c in got["trace"]],
                                 [c["address"] for c in want["trace"]])
                self.assertEqual([c["value"] for c in got["trace"]],
                                 [c["value"] for c in want["trace"]])

    def test_run_errors(self):
        with self.assertRaisesRegex(chassis.Error, r"unknown module 'Nope'.*available: Sensor"):
            self.braking.run("Nope")
        with self.assertRaisesRegex(chassis.Error, r"unknown input 'speeed'.*inputs: reading, speed"):
            self.braking.run("Controller", {"reading": 3, "speeed": 1})
        with self.assertRaisesRegex(chassis.Error, r"missing input 'speed'"):
            self.braking.run("Controller", {"reading": 3})
        with self.assertRaisesRegex(chassis.Error, r"'reading' = 250 is outside its range \[0, 200\]"):
            self.braking.run("Controller", {"reading": 250, "speed": 1})
        with self.assertRaisesRegex(chassis.Error, r"reading"):
            self.braking.run("Controller", {"reading": "far", "speed": 1})
        with self.assertRaises(TypeError):
            self.braking.run("Controller", {"reading": object(), "speed": 1})
        with self.assertRaises(ValueError):
            self.braking.run("Controller", {"reading": float("nan"), "speed": 1})

    def test_load_errors_are_located(self):
        with tempfile.TemporaryDirectory() as d:
            bad = os.path.join(d, "bad.chs")
            with open(bad, "w") as f:
                f.write("module M() -> (y: real) {\n    y = 1.0 +;\n}\n")
            with self.assertRaisesRegex(chassis.Error, r"bad\.chs:2:\d+: error: "):
                chassis.load(bad)
        with self.assertRaisesRegex(chassis.Error, r"missing\.chs: error: cannot open"):
            chassis.load(os.path.join(SRC, "missing.chs"))

    def test_verify_matches_the_command(self):
        want = {r["property"]: r for r in json.loads(
            cli("verify", BRAKING, "--json", ok_codes=(0, 1, 3)))["results"]}
        got = self.braking.verify()
        self.assertEqual([r["name"] for r in got], list(want))
        for r in got:
            with self.subTest(property=r["name"]):
                self.assertEqual(r["verdict"], want[r["name"]]["verdict"])
                if "interval" in want[r["name"]]:
                    self.assertEqual(list(r["interval"]), want[r["name"]]["interval"])
        late = self.braking.verify("never_late_when_slow")
        self.assertEqual(late["verdict"], "violated")
        cx = late["counterexample"]
        self.assertEqual(set(cx), {"distance", "speed", "Sensor/noise"})
        self.assertTrue(all(isinstance(v, (int, float)) for v in cx.values()))
        self.assertFalse(cx["speed"] > 10 or cx["distance"] > 5)
        self.assertEqual(self.braking.verify("brakes_when_close")["verdict"], "holds")
        with self.assertRaisesRegex(chassis.Error, r"no property named 'nope'"):
            self.braking.verify("nope")


class InferTest(unittest.TestCase):
    def test_exact_matches_the_command(self):
        got = chassis.load(SPRINKLER).infer("WetGrass", method="exact")
        want = json.loads(cli("infer", SPRINKLER, "WetGrass", "--method", "exact",
                              "--json"))["results"][0]
        self.assertEqual(got["method"], "exact")
        for q in want["quantities"]:
            self.assertEqual(got["summary"][q["name"]]["mean"], q["mean"])
            self.assertEqual([list(p) for p in got["summary"][q["name"]]["distribution"]],
                             q["distribution"])
        self.assertEqual(got["log_evidence"], want["log_evidence"])

    def test_mh_draws_are_arrays_and_match_the_command(self):
        with open(SCHOOLS_DATA) as f:
            data = json.load(f)
        inputs = {"y": np.array(data["y"]), "sigma": data["sigma"]}
        model = chassis.load(SCHOOLS)
        got = model.infer("EightSchools", inputs, method="mh", samples=300, chains=2, warmup=200,
                          seed=3, query=["mu", "tau"])
        self.assertEqual(set(got["draws"]), {"mu", "tau"})
        self.assertEqual(got["draws"]["mu"].shape, (2, 300))
        self.assertEqual(got["draws"]["mu"].dtype, np.float64)
        self.assertTrue((got["draws"]["tau"] > 0).all())
        self.assertAlmostEqual(float(got["draws"]["mu"].mean()), got["summary"]["mu"]["mean"],
                               places=9)
        want = json.loads(cli("infer", SCHOOLS, "EightSchools", "--data", SCHOOLS_DATA,
                              "--method", "mh", "--samples", "300", "--chains", "2",
                              "--warmup", "200", "--seed", "3", "--query", "mu,tau",
                              "--json"))["results"][0]
        for q in want["quantities"]:
            self.assertEqual(got["summary"][q["name"]]["mean"], q["mean"])
            self.assertEqual(got["summary"][q["name"]]["rhat"], q["rhat"])
        again = model.infer("EightSchools", inputs, method="mh", samples=300, chains=2,
                            warmup=200, seed=3, query=["mu", "tau"])
        self.assertTrue(np.array_equal(again["draws"]["mu"], got["draws"]["mu"]))
        with self.assertRaisesRegex(chassis.Error, r"unknown method 'gibbs'"):
            model.infer("EightSchools", inputs, method="gibbs")


class NetworkTest(unittest.TestCase):
    def test_forward_matches_the_command(self):
        net = chassis.load_network(POLICY)
        self.assertEqual((net.input_size, net.output_size), (2, 2))
        x = np.array([[2.0, 30.0], [190.0, 3.0], [30.0, 10.0]])
        y = net.forward(x)
        self.assertEqual(y.shape, (3, 2))
        want = cli("eval", POLICY, "--input", "2,30", "--input", "190,3", "--input", "30,10")
        rows = [[float(v) for v in line.split(",")] for line in want.split()]
        self.assertEqual(y.tolist(), rows)
        self.assertEqual(net.forward(np.array([30.0, 10.0])).tolist(), rows[2])
        with self.assertRaisesRegex(chassis.Error, r"expected 2 inputs per row.*got shape \(3\)"):
            net.forward(np.zeros(3))

    def test_save_and_reload(self):
        net = chassis.load_network(POLICY)
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "copy.onnx")
            net.save(path)
            x = np.array([[5.0, 25.0]])
            self.assertEqual(chassis.load_network(path).forward(x).tolist(),
                             net.forward(x).tolist())

    def test_load_errors(self):
        with self.assertRaisesRegex(chassis.Error, r"braking\.chs: error: not a valid ONNX model"):
            chassis.load_network(BRAKING)

    def test_vnnlib_verdicts_match_the_expected_answers(self):
        for onnx, prop, expected in [
                ("cartpole.onnx", "cartpole_case_safe_73.vnnlib", "unsat"),
                ("cartpole.onnx", "cartpole_case_safe_99.vnnlib", "sat")]:
            with self.subTest(property=prop):
                net_path = os.path.join(VNNCOMP, "onnx", onnx)
                r = chassis.verify_vnnlib(net_path, os.path.join(VNNCOMP, "vnnlib", prop),
                                          timeout=60)
                self.assertEqual(r["verdict"], expected)
                self.assertEqual(r["result"].splitlines()[0], expected)
                if expected == "sat":
                    net = chassis.load_network(net_path)
                    self.assertEqual(r["x"].shape, (net.input_size,))
                    self.assertEqual(net.forward(r["x"]).tolist(), r["y"].tolist())
                else:
                    self.assertIsNone(r["x"])
        with self.assertRaisesRegex(chassis.Error, r"missing\.vnnlib"):
            chassis.verify_vnnlib(os.path.join(VNNCOMP, "onnx", "cartpole.onnx"),
                                  os.path.join(VNNCOMP, "missing.vnnlib"))


if __name__ == "__main__":
    unittest.main()
