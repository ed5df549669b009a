package org.rnn4j.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.results.format.ResultFormatType;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

/**
 * Both benchmarks through JMH in this JVM (forks 0) with tiny parameters and times, then the report on their JSON:
 * checks that the benchmarks run, that JMH's JSON parses, and that REPORT.md and the charts are written. Not a
 * measurement: it takes a few seconds.
 */
class SmokeTest {

    @Test
    void benchmarksRunAndReportIsWritten(@TempDir Path dir) throws Exception {
        System.setProperty("java.awt.headless", "true");
        Path json = dir.resolve("jmh.json");
        Options opt = new OptionsBuilder()
                .include(RnnTrainingBench.class.getName() + ".trainIteration")
                .include(GemmBench.class.getName() + ".gemm")
                .include(LstmTrainingBench.class.getName() + ".trainIteration")
                .param("size", "8")
                .param("batchSize", "2")
                .param("steps", "3")
                .param("hidden", "16")
                .param("batch", "1", "64")
                .param("backend", "cpu")
                .param("precision", "float32")
                .param("shape", "128")
                .param("gemmPath", BenchBackends.PATH_DEFAULT)
                .warmupIterations(1)
                .warmupTime(TimeValue.milliseconds(100))
                .measurementIterations(1)
                .measurementTime(TimeValue.milliseconds(100))
                .forks(0)
                .shouldFailOnError(true)
                .resultFormat(ResultFormatType.JSON)
                .result(json.toString())
                .build();
        Collection<RunResult> results = new Runner(opt).run();
        assertEquals(4, results.size(), "2 RNN training configurations, 1 LSTM and 1 GEMM");

        List<JmhResult> parsed = JmhResult.parse(json);
        assertEquals(4, parsed.size());
        for (JmhResult r : parsed) {
            assertEquals("cpu", r.backend());
            assertTrue(r.score() > 0 && Double.isFinite(r.secondsPerOp()), r.toString());
        }

        Path out = dir.resolve("report");
        Report.Environment env = Report.Environment.probe("SmokeTest (JMH in-process)");
        List<Path> written = Report.write(parsed, env, out);
        Path md = out.resolve("REPORT.md");
        assertTrue(written.contains(md));
        String text = Files.readString(md);
        assertTrue(text.contains("## RnnTrainingBench.trainIteration"), text);
        assertTrue(text.contains("## LstmTrainingBench.trainIteration"), text);
        assertTrue(text.contains("## GemmBench.gemm"), text);
        assertTrue(text.contains("| backend | hidden | batch | precision |"), text);
        assertTrue(text.contains("iterations/s"), text);
        assertTrue(text.contains("GFLOP/s"), text);
        assertTrue(text.contains("SmokeTest (JMH in-process)"), text);
        for (String png : List.of("RnnTrainingBench-throughput.png", "LstmTrainingBench-throughput.png",
                "GemmBench-throughput.png")) {
            Path p = out.resolve(png);
            assertTrue(written.contains(p), png + " not written: " + written);
            ReportTest.assertPng(p);
            assertTrue(text.contains("](" + png + ")"), png + " not linked from the report");
        }
        if (!env.gpu().usable()) {
            assertTrue(text.contains("The GPU half is unmeasured here"), text);
            assertFalse(Files.exists(out.resolve("RnnTrainingBench-speedup.png")));
        }
    }
}
