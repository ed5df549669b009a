package org.rnn4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.rnn4j.backend.Backend;
import org.rnn4j.backend.BackendProvider;
import org.rnn4j.backend.Precision;
import org.rnn4j.backend.cpu.CpuBackend32;
import org.rnn4j.backend.cpu.CpuBackend64;
import org.rnn4j.backend.cpu.CpuBackendProvider;
import org.rnn4j.check.ParityCheck;
import org.rnn4j.io.Traces;
import org.rnn4j.net.BinaryAdditionRnn;
import org.rnn4j.net.LstmLayer;
import org.rnn4j.train.LstmTrainer;
import org.rnn4j.train.RnnTrainer;
import org.rnn4j.train.Trained;

/**
 * The {@code --check} machinery without a GPU: the same comparison the CUDA check runs, between CPU backends, so that
 * an identical run passes and a run that really differs fails with exit code 1.
 */
class ParityRunTest {

    /** A provider whose "float64" backend secretly computes in float32: a backend that is wrong by ~1e-7. */
    private static final BackendProvider IMPOSTOR = new BackendProvider() {
        @Override
        public String name() {
            return "impostor";
        }

        @Override
        public int priority() {
            return 0;
        }

        @Override
        public Availability availability() {
            return Availability.usable("test", List.of());
        }

        @Override
        public Backend create(Precision precision) {
            return new CpuBackend32();
        }
    };

    /**
     * A correct backend whose rounding differs from the reference's: the CPU in float64 with its sums split at
     * another point than the check's own perturbed run, as a stand-in for a GPU whose kernels sum in another order
     * and whose {@code exp}/{@code tanh} round differently on some inputs.
     */
    private static final BackendProvider REORDERED = new BackendProvider() {
        @Override
        public String name() {
            return "reordered";
        }

        @Override
        public int priority() {
            return 0;
        }

        @Override
        public Availability availability() {
            return Availability.usable("test", List.of());
        }

        @Override
        public Backend create(Precision precision) {
            return precision == Precision.FLOAT64 ? CpuBackend64.withSplitSums(0.3) : new CpuBackend32();
        }
    };

    /** The seeds' default LSTM run, as {@code train lstm --check} trains it: the run that amplifies rounding. */
    private static final Function<Backend, ParityCheck.Outcome> LSTM = backend -> {
        List<ObjectNode> trace = new ArrayList<>();
        Trained<LstmLayer> t = LstmTrainer.train(backend, LstmTrainer.Config.seedDefaults(), j -> true,
                r -> trace.add(Traces.lstm(r)));
        try (LstmLayer net = t.network()) {
            return new ParityCheck.Outcome(trace, net.parameterTensors(), net.parameters());
        }
    };

    private static TrainOptions options() {
        TrainOptions o = new TrainOptions();
        o.backend = "auto";
        o.seed = 3;
        o.learningRate = 0.1;
        return o;
    }

    private static final Function<Backend, ParityCheck.Outcome> RNN = backend -> {
        List<ObjectNode> trace = new ArrayList<>();
        Trained<BinaryAdditionRnn> t = RnnTrainer.train(backend, new RnnTrainer.Config(3, 8, 300, 0.1),
                j -> j % 50 == 0, r -> trace.add(Traces.rnn(r)));
        try (BinaryAdditionRnn net = t.network()) {
            return new ParityCheck.Outcome(trace, net.parameterTensors(), net.parameters());
        }
    };

    private static int check(BackendProvider candidate, Precision precision, StringWriter text) {
        return ParityRun.run(options(), precision, "rnn", RNN, new PrintWriter(text, true), new CpuBackendProvider(),
                candidate);
    }

    @Test
    void identicalRunsPassInBothPrecisions() {
        for (Precision p : Precision.values()) {
            StringWriter text = new StringWriter();
            assertEquals(0, check(new CpuBackendProvider(), p, text), text.toString());
            String out = text.toString();
            assertTrue(out.contains("result: pass"), out);
            for (String q : new String[] {"trace error", "trace pred", "weights synapse_0", "weights synapse_1",
                    "weights synapse_h"}) {
                assertTrue(out.contains(q), q + " is reported:\n" + out);
            }
        }
    }

    @Test
    void aFloat32BackendPosingAsFloat64FailsWithExitOne() {
        StringWriter text = new StringWriter();
        assertEquals(1, check(IMPOSTOR, Precision.FLOAT64, text), text.toString());
        assertTrue(text.toString().contains("EXCEEDS"), text.toString());
        assertTrue(text.toString().contains("result: FAIL"), text.toString());
    }

    @Test
    void float64BoundOnTheSensitiveLstmRunComesFromAPerturbedRun() {
        try (Backend a = new CpuBackendProvider().create(Precision.FLOAT64);
             Backend b = REORDERED.create(Precision.FLOAT64)) {
            ParityCheck.Report fixed = ParityCheck.compare64(LSTM.apply(b), LSTM.apply(a));
            System.out.println("reordered sums, fixed bound:\n  " + String.join("\n  ", fixed.table("got", "ref")));
            assertTrue(!fixed.passed(), "a mere change of summation order leaves 1e-9 on this run: "
                    + fixed.table("got", "ref"));
        }
        StringWriter text = new StringWriter();
        int code = ParityRun.run(options(), Precision.FLOAT64, "lstm", LSTM, new PrintWriter(text, true),
                new CpuBackendProvider(), REORDERED);
        System.out.println(text);
        assertEquals(0, code, text.toString());
        assertTrue(text.toString().contains("max(1e-09 * |ref| + 1e-12, 10 * E)"), text.toString());
        assertTrue(text.toString().contains("each GEMM's sum split at 0.5"), "the perturbed run is named: " + text);
    }

    @Test
    void theDerivedFloat64BoundStillCatchesAFloat32BackendOnTheSensitiveRun() {
        StringWriter text = new StringWriter();
        assertEquals(1, ParityRun.run(options(), Precision.FLOAT64, "lstm", LSTM, new PrintWriter(text, true),
                new CpuBackendProvider(), IMPOSTOR), text.toString());
        System.out.println(text);
        assertTrue(text.toString().contains("EXCEEDS"), text.toString());
    }

    @Test
    void checkWithoutCudaIsAUsageError() {
        CliTest.Run r = CliTest.run("train", "rnn", "--check", "--iterations", "10");
        assertEquals(2, r.code(), r.out() + r.err());
        assertEquals(1, r.errLines().size(), r.err());
        assertTrue(r.err().startsWith("rnn4j: --check needs the CUDA backend"), r.err());
    }

    @Test
    void checkRefusesOutputFilesAndOtherBackends() {
        TrainOptions o = options();
        o.backend = "cpu";
        assertThrows(UsageException.class, () -> ParityRun.run(o, Precision.FLOAT64, "rnn", RNN,
                new PrintWriter(new StringWriter())));
        TrainOptions traced = options();
        traced.trace = java.nio.file.Path.of("t.jsonl");
        UsageException e = assertThrows(UsageException.class, () -> ParityRun.run(traced, Precision.FLOAT64, "rnn",
                RNN, new PrintWriter(new StringWriter()), new CpuBackendProvider(), new CpuBackendProvider()));
        assertTrue(e.getMessage().contains("--check writes no trace"), e.getMessage());
    }
}
