package org.rnn4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.rnn4j.io.TraceComparison;

/** The command line as a user meets it: exit codes, one-line errors, traces, summaries and what is left on disk. */
class CliTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    record Run(int code, String out, String err) {
        List<String> errLines() {
            return err.isEmpty() ? List.of() : List.of(err.split("\n"));
        }

        List<String> outLines() {
            return List.of(out.split("\n"));
        }
    }

    static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
        return new Run(code, out.toString(), err.toString());
    }

    static Stream<Arguments> badInputs() {
        return Stream.of(
                Arguments.of("--hidden", new String[] {"train", "rnn", "--hidden", "0"}),
                Arguments.of("--hidden", new String[] {"train", "lstm", "--hidden", "-3"}),
                Arguments.of("--hidden", new String[] {"train", "rnn", "--hidden", "many"}),
                Arguments.of("--hidden", new String[] {"train", "rnn", "--hidden", "100000"}),
                Arguments.of("--iterations", new String[] {"train", "rnn", "--iterations", "0"}),
                Arguments.of("--iterations", new String[] {"train", "lstm", "--iterations", "-1"}),
                Arguments.of("--report-every", new String[] {"train", "rnn", "--report-every", "0"}),
                Arguments.of("--batch", new String[] {"train", "rnn", "--batch", "0"}),
                Arguments.of("--cell", new String[] {"train", "lstm", "--cell", "gru"}),
                Arguments.of("--batch", new String[] {"train", "rnn", "--batch", "100000000", "--hidden", "512"}),
                Arguments.of("--input-dim", new String[] {"train", "lstm", "--input-dim", "0"}),
                Arguments.of("--lr", new String[] {"train", "rnn", "--lr", "0"}),
                Arguments.of("--lr", new String[] {"train", "rnn", "--lr", "-0.1"}),
                Arguments.of("--lr", new String[] {"train", "lstm", "--lr", "NaN"}),
                Arguments.of("--lr", new String[] {"train", "lstm", "--lr", "Infinity"}),
                Arguments.of("--lr", new String[] {"train", "lstm", "--lr", "fast"}),
                Arguments.of("--backend", new String[] {"train", "rnn", "--backend", "tpu"}),
                Arguments.of("--precision", new String[] {"train", "rnn", "--precision", "float16"}),
                Arguments.of("--seed", new String[] {"train", "rnn", "--seed", "-1"}),
                Arguments.of("--seed", new String[] {"train", "lstm", "--seed", "4294967296"}),
                Arguments.of("--targets", new String[] {"train", "lstm", "--targets", "a,b"}),
                Arguments.of("--targets", new String[] {"train", "lstm", "--targets", "0.1,,0.2"}),
                Arguments.of("--targets", new String[] {"train", "lstm", "--targets", ""}),
                Arguments.of("--targets", new String[] {"train", "lstm", "--targets", "0.1,nan"}),
                Arguments.of("--targets", new String[] {"train", "lstm", "--targets", "1e999"}),
                Arguments.of("--trace", new String[] {"train", "rnn", "--trace", "/no/such/dir/t.jsonl"}),
                Arguments.of("--summary", new String[] {"train", "lstm", "--summary", "/no/such/dir/s.json"}),
                Arguments.of("--trace", new String[] {"train", "lstm", "--trace", "/tmp"}),
                Arguments.of("--nope", new String[] {"train", "rnn", "--nope"}),
                Arguments.of("missing", new String[] {"train"}),
                Arguments.of("missing", new String[] {}),
                Arguments.of("gru", new String[] {"gradcheck", "gru"}),
                Arguments.of("NETWORK", new String[] {"gradcheck"}));
    }

    @ParameterizedTest(name = "{0}: {1}")
    @MethodSource("badInputs")
    void badInputIsOneLineNamingTheOptionAndExitCode2(String named, String[] args) {
        Run r = run(args);
        assertEquals(2, r.code(), () -> "exit code for " + Arrays.toString(args) + "\n" + r.err());
        assertEquals(1, r.errLines().size(), () -> "stderr must be one line:\n" + r.err());
        assertTrue(r.err().startsWith("rnn4j: "), r.err());
        assertTrue(r.err().contains(named), () -> "error must name " + named + ": " + r.err());
        assertFalse(r.err().contains("\tat "), "no stack trace");
    }

    @Test
    void negativeTargetsAreReadAsValues() throws IOException {
        Path summary = dir.resolve("s.json");
        Run r = run("train", "lstm", "--targets", "-0.3,0.4", "--hidden", "3", "--input-dim", "2",
                "--iterations", "2", "--quiet", "--summary", summary.toString());
        assertEquals(0, r.code(), r.err());
        JsonNode s = JSON.readTree(summary.toFile());
        assertEquals(-0.3, s.get("targets").get(0).asDouble());
        assertEquals(2, s.get("predictions").size());
    }

    @Test
    void badInputLeavesExistingFilesUntouched() throws IOException {
        Path trace = dir.resolve("trace.jsonl");
        Path summary = dir.resolve("summary.json");
        Files.writeString(trace, "precious trace\n");
        Files.writeString(summary, "precious summary\n");
        Run bad = run("train", "rnn", "--hidden", "0", "--trace", trace.toString(), "--summary", summary.toString());
        assertEquals(2, bad.code());
        Run badSummary = run("train", "rnn", "--iterations", "10", "--trace", trace.toString(), "--summary",
                dir.resolve("missing/summary.json").toString());
        assertEquals(2, badSummary.code());
        assertEquals("precious trace\n", Files.readString(trace));
        assertEquals("precious summary\n", Files.readString(summary));
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(2, files.count(), "no temporary files left behind");
        }
    }

    @Test
    void traceOfRnnAtOtherSettingsEqualsTheOracle() throws Exception {
        Path trace = dir.resolve("rnn.jsonl");
        Run r = run("train", "rnn", "--precision", "float64", "--seed", "1", "--hidden", "8", "--iterations", "3000",
                "--lr", "0.5", "--report-every", "100", "--backend", "cpu", "--quiet", "--trace", trace.toString());
        assertEquals(0, r.code(), r.err());
        assertEquals("", r.err(), "--backend cpu prints no fallback note");
        assertMatchesOracle(trace, "rnn-seed1-h8-lr0.5");
    }

    @Test
    void traceOfLstmAtOtherSettingsEqualsTheOracle() throws Exception {
        Path trace = dir.resolve("lstm.jsonl");
        Run r = run("train", "lstm", "--precision", "float64", "--seed", "1", "--hidden", "10", "--input-dim", "3",
                "--targets", "0.3,-0.2,0.7", "--iterations", "200", "--lr", "0.2", "--quiet",
                "--trace", trace.toString());
        assertEquals(0, r.code(), r.err());
        assertMatchesOracle(trace, "lstm-seed1-h10-x3");
    }

    private static void assertMatchesOracle(Path trace, String name) throws Exception {
        List<JsonNode> want = TraceComparison.read(Path.of(CliTest.class.getResource(
                "/org/rnn4j/traces/" + name + ".jsonl").toURI()));
        TraceComparison.Result c = TraceComparison.compare(TraceComparison.read(trace), want, 1e-9, 1e-12);
        assertTrue(c.passed(), () -> c.summary() + "\n" + String.join("\n", c.failures()));
        assertEquals(want.size(), c.lines());
    }

    @Test
    void rnnSummaryAndResult() throws IOException {
        Path summary = dir.resolve("rnn.json");
        Run r = run("train", "rnn", "--iterations", "300", "--report-every", "100", "--summary", summary.toString());
        assertEquals(0, r.code(), r.err());
        JsonNode s = JSON.readTree(summary.toFile());
        assertEquals("rnn", s.get("network").asText());
        assertEquals("cpu", s.get("backend").asText());
        assertEquals("float32", s.get("precision").asText());
        assertEquals(300, s.get("iterations").asInt());
        assertTrue(s.get("seconds").asDouble() > 0);
        assertEquals(300 / s.get("seconds").asDouble(), s.get("iterations_per_second").asDouble(), 1e-6);
        double accuracy = s.get("accuracy").asDouble();
        assertTrue(accuracy >= 0 && accuracy <= 1);
        // Plain output, not a terminal: one line per report (iterations 0, 100, 200), then the result
        assertEquals(3, r.outLines().stream().filter(l -> l.startsWith("iter ")).count(), r.out());
        assertTrue(r.out().contains("accuracy: "), r.out());
        // auto found no GPU backend here and says so, in one line
        assertEquals(1, r.errLines().size(), r.err());
        assertTrue(r.err().contains("using the CPU backend"), r.err());
    }

    @Test
    void lstmSummaryMatchesItsTrace() throws IOException {
        Path summary = dir.resolve("lstm.json");
        Path trace = dir.resolve("lstm.jsonl");
        Run r = run("train", "lstm", "--iterations", "30", "--quiet", "--summary", summary.toString(),
                "--trace", trace.toString());
        assertEquals(0, r.code(), r.err());
        assertEquals("", r.out(), "--quiet prints nothing on stdout");
        JsonNode s = JSON.readTree(summary.toFile());
        List<JsonNode> lines = TraceComparison.read(trace);
        assertEquals(30, lines.size());
        JsonNode last = lines.get(lines.size() - 1);
        assertEquals(29, last.get("iter").asInt());
        assertEquals(last.get("loss").asDouble(), s.get("final_loss").asDouble());
        assertEquals(last.get("y_pred"), s.get("predictions"));
        assertEquals("float32", s.get("precision").asText());
    }

    @Test
    void lstmStandardCellLearnsTheSeedsTask() throws IOException {
        Path summary = dir.resolve("std.json");
        Path trace = dir.resolve("std.jsonl");
        Run r = run("train", "lstm", "--cell", "standard", "--precision", "float64", "--iterations", "300",
                "--quiet", "--summary", summary.toString(), "--trace", trace.toString());
        assertEquals(0, r.code(), r.err());
        JsonNode s = JSON.readTree(summary.toFile());
        assertEquals("standard", s.get("cell").asText());
        List<JsonNode> lines = TraceComparison.read(trace);
        assertEquals(300, lines.size());
        double first = lines.get(0).get("loss").asDouble();
        double last = s.get("final_loss").asDouble();
        assertTrue(last < 1e-3 * first, "the loss falls by three orders: " + first + " -> " + last);
        // a different cell, a different run: the seed cell's first loss is not the standard cell's
        Run seed = run("train", "lstm", "--precision", "float64", "--iterations", "1", "--quiet",
                "--summary", dir.resolve("seed.json").toString());
        assertEquals(0, seed.code(), seed.err());
        assertTrue(Math.abs(JSON.readTree(dir.resolve("seed.json").toFile()).get("final_loss").asDouble() - first)
                > 1e-6);
    }

    @Test
    void memoryTotalIsWhatTheBackendAllocates() {
        Run r = run("memory", "lstm", "--cell", "standard", "--input-dim", "9", "--hidden", "13", "--batch", "3",
                "--steps", "7", "--precision", "float64");
        assertEquals(0, r.code(), r.err());
        String total = r.outLines().stream().filter(l -> l.startsWith("total")).findFirst().orElseThrow();
        long bytes = Long.parseLong(total.replaceAll(".* values +([0-9,]+) bytes.*", "$1").replace(",", ""));
        try (var b = (org.rnn4j.backend.AbstractBackend) new org.rnn4j.backend.cpu.CpuBackend64();
             var net = new org.rnn4j.net.LstmLayer(b, 9, 13); var ws = net.workspace(7, 3)) {
            assertEquals(b.allocatedBytes(), bytes, r.out());
        }
        assertEquals(2, run("memory", "gru").code());
    }

    @Test
    void charlmMemoryTotalIsWhatTheModelItsLossClippingAndAdamAllocate() {
        for (String dropout : new String[] {"0", "0.25"}) {
            Run r = run("memory", "charlm", "--vocab", "11", "--embedding", "5", "--hidden", "7", "--layers", "3",
                    "--dropout", dropout, "--batch", "3", "--steps", "6", "--precision", "float64");
            assertEquals(0, r.code(), r.err());
            String total = r.outLines().stream().filter(l -> l.startsWith("total")).findFirst().orElseThrow();
            long bytes = Long.parseLong(total.replaceAll(".* values +([0-9,]+) bytes.*", "$1").replace(",", ""));
            try (var b = (org.rnn4j.backend.AbstractBackend) new org.rnn4j.backend.cpu.CpuBackend64();
                 var model = org.rnn4j.nn.Sequential.builder().embedding(11, 5).lstm(7, 3, Double.parseDouble(dropout))
                         .linear(11).build(b, 1);
                 var ws = model.workspace(6, 3); var loss = new org.rnn4j.nn.CrossEntropyLoss(b, 18, 11);
                 var clip = new org.rnn4j.nn.GradientClipping(model.arena());
                 var adam = new org.rnn4j.nn.Adam(model.arena(), 0.01)) {
                assertEquals(b.allocatedBytes(), bytes, r.out());
            }
            assertTrue(r.outLines().stream().anyMatch(l -> l.startsWith("optimizer")), r.out());
        }
        Run bad = run("memory", "charlm", "--vocab", "0");
        assertEquals(2, bad.code());
        assertEquals("rnn4j: --vocab must be at least 1, got 0", bad.err().strip());
        assertEquals(2, run("memory", "charlm", "--dropout", "1").code());
    }

    @Test
    void gradchecksPassAndEndWithTheirMaximum() {
        for (String net : new String[] {"rnn", "lstm", "lstm-stack"}) {
            Run r = run("gradcheck", net);
            assertEquals(0, r.code(), r.out() + r.err());
            List<String> lines = r.outLines();
            String last = lines.get(lines.size() - 1);
            assertTrue(last.matches("max relative error \\S+"), last);
            double e = Double.parseDouble(last.substring("max relative error ".length()));
            assertTrue(e < 1e-6, last);
        }
    }

    @Test
    void devicesExplainsWhatIsUsable() {
        Run r = run("devices");
        assertEquals(0, r.code());
        assertTrue(r.out().contains("cpu   usable"), r.out());
        assertTrue(r.out().contains("cuda  not usable: "), r.out());
        assertTrue(r.out().contains("auto  picks cpu"), r.out());
    }

    @Test
    void versionAndHelp() {
        Run v = run("--version");
        assertEquals(0, v.code());
        assertTrue(v.out().startsWith("rnn4j "), v.out());
        Run h = run("train", "lstm", "--help");
        assertEquals(0, h.code());
        for (String option : new String[] {"--backend", "--precision", "--seed", "--hidden", "--iterations", "--lr",
                "--report-every", "--trace", "--summary", "--quiet", "--input-dim", "--targets"}) {
            assertTrue(h.out().contains(option), option);
        }
    }

    @Test
    void compareFindsADifference() throws IOException {
        Path a = dir.resolve("a.jsonl");
        Path b = dir.resolve("b.jsonl");
        Files.writeString(a, "{\"iter\": 0, \"loss\": 1.0, \"y_pred\": [0.5]}\n");
        Files.writeString(b, "{\"iter\": 0, \"loss\": 1.0000001, \"y_pred\": [0.5]}\n");
        assertEquals(0, run("compare", a.toString(), a.toString()).code());
        Run r = run("compare", a.toString(), b.toString());
        assertEquals(1, r.code());
        assertTrue(r.out().contains("line 1 loss"), r.out());
        assertEquals(0, run("compare", a.toString(), b.toString(), "--rtol", "1e-6").code());
        List<String> missing = new ArrayList<>(run("compare", a.toString(), dir.resolve("none").toString())
                .errLines());
        assertEquals(1, missing.size());
        assertTrue(missing.get(0).contains("WANT"), missing.get(0));
    }
}
