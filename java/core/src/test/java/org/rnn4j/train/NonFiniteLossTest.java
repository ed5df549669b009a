package org.rnn4j.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.IntPredicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.rnn4j.backend.spi.AbstractBackend;
import org.rnn4j.backend.Backend;
import org.rnn4j.backend.Buffer;
import org.rnn4j.backend.Precision;
import org.rnn4j.backend.cpu.CpuBackendProvider;
import org.rnn4j.net.LstmLayer;

/**
 * A training run whose loss becomes infinite or NaN stops with {@link NonFiniteLossException} at the iteration it went
 * bad (the LSTM exactly, whatever is observed; the RNN where its error is next downloaded), returns no network and
 * reports no non-finite value; runs that stay finite are unchanged.
 */
class NonFiniteLossTest {

    /**
     * The CPU backend, except that the SGD update of iteration {@code poisonAt} leaves NaN in every parameter: a
     * stand-in for a step that overflows, at an iteration the test chooses.
     */
    private static Backend poisoned(Precision precision, int poisonAt) {
        Backend inner = new CpuBackendProvider().create(precision);
        int[] updates = {0};
        return (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[] {Backend.class},
                (proxy, method, args) -> {
                    Object result;
                    try {
                        result = method.invoke(inner, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                    if (method.getName().equals("sgdUpdate") && updates[0]++ == poisonAt) {
                        Buffer params = (Buffer) args[0];
                        double[] nan = new double[params.length()];
                        Arrays.fill(nan, Double.NaN);
                        inner.upload(nan, params);
                    }
                    return result;
                });
    }

    private static LstmTrainer.Config lstmConfig(int iterations) {
        return new LstmTrainer.Config(0, 8, 5, new double[] {-0.5, 0.2, 0.1}, iterations, 0.1);
    }

    @ParameterizedTest
    @EnumSource(LstmLayer.Cell.class)
    void theLstmNamesTheFirstBadIterationExactlyWhateverIsObserved(LstmLayer.Cell cell) {
        // poisoned in iteration 150's update: iteration 151's forward is the first NaN loss
        for (IntPredicate observe : new IntPredicate[] {j -> true, j -> j % 100 == 0, j -> false}) {
            List<LstmTrainer.Report> reports = new ArrayList<>();
            try (Backend backend = poisoned(Precision.FLOAT32, 150)) {
                NonFiniteLossException e = assertThrows(NonFiniteLossException.class, () -> train(cell, backend,
                        lstmConfig(3000), observe, reports));
                assertEquals(151, e.iteration(), e.getMessage());
                assertTrue(e.exact());
                assertTrue(Double.isNaN(e.value()));
                assertEquals("the loss became NaN at iteration 151", e.getMessage());
            }
            assertTrue(reports.stream().allMatch(r -> Double.isFinite(r.loss())), "no NaN reported");
            assertFalse(reports.stream().anyMatch(r -> r.iteration() > 151));
        }
    }

    @Test
    void theLstmChecksAtLeastOnceAWindowWhenNothingIsObserved() {
        // never observed, 5000 iterations: it stops within a window of the bad one rather than running on to the end
        int[] done = {0};
        try (Backend backend = poisoned(Precision.FLOAT64, 10)) {
            NonFiniteLossException e = assertThrows(NonFiniteLossException.class, () -> LstmTrainer.train(backend,
                    lstmConfig(5000), j -> false, new TrainingListener<>() {
                        @Override
                        public void iterationDone(int iteration) {
                            done[0] = iteration + 1;
                        }

                        @Override
                        public void report(LstmTrainer.Report report) {
                        }
                    }));
            assertEquals(11, e.iteration());
            assertTrue(done[0] <= LossHistory.WINDOW + 1, "stopped after " + done[0] + " iterations");
        }
    }

    @Test
    void theLstmsNetworkIsClosedWhenItStops() {
        try (AbstractBackend backend = (AbstractBackend) new CpuBackendProvider().create(Precision.FLOAT32)) {
            // 1e20 is a float32; its square is not: the very first loss is infinite
            var config = new LstmTrainer.Config(0, 8, 5, new double[] {1e20, 0}, 10, 0.1);
            NonFiniteLossException e = assertThrows(NonFiniteLossException.class,
                    () -> LstmTrainer.train(backend, config, j -> false, r -> { }));
            assertEquals(0, e.iteration());
            assertEquals(Double.POSITIVE_INFINITY, e.value());
            assertEquals(0, backend.allocatedBytes(), "every buffer released");
        }
    }

    @Test
    void theRnnStopsAtTheNextDownloadOfItsError() {
        var config = new RnnTrainer.Config(0, 16, 1000, 0.1);
        // poisoned in iteration 150's update: iteration 151's error is the first NaN, and every later one is NaN
        try (Backend backend = poisoned(Precision.FLOAT32, 150)) {
            NonFiniteLossException e = assertThrows(NonFiniteLossException.class,
                    () -> RnnTrainer.train(backend, config, j -> true, r -> assertTrue(Double.isFinite(r.error()))));
            assertEquals(151, e.iteration());
            assertTrue(e.exact(), "every iteration observed");
            assertEquals("the error became NaN at iteration 151", e.getMessage());
        }
        try (Backend backend = poisoned(Precision.FLOAT32, 150)) {
            NonFiniteLossException e = assertThrows(NonFiniteLossException.class,
                    () -> RnnTrainer.train(backend, config, j -> j % 100 == 0, r -> { }));
            assertEquals(200, e.iteration());
            assertEquals(100, e.lastFinite());
            assertFalse(e.exact());
            assertEquals("the error became NaN at iteration 200 at the latest (it was finite at iteration 100, the "
                    + "last one checked)", e.getMessage());
        }
        try (Backend backend = poisoned(Precision.FLOAT32, 150)) {
            // never observed: caught at the end, so no network comes back
            NonFiniteLossException e = assertThrows(NonFiniteLossException.class,
                    () -> RnnTrainer.train(backend, config, j -> false, r -> { }));
            assertEquals(999, e.iteration());
            assertEquals(-1, e.lastFinite());
        }
    }

    @Test
    void aFiniteRunIsUnchanged() {
        // the same run with and without the poisoned backend's hook never reached: same reports, bit for bit
        List<LstmTrainer.Report> plain = new ArrayList<>();
        List<LstmTrainer.Report> watched = new ArrayList<>();
        try (Backend a = new CpuBackendProvider().create(Precision.FLOAT32);
             Backend b = poisoned(Precision.FLOAT32, Integer.MAX_VALUE)) {
            LstmTrainer.train(a, lstmConfig(2100), j -> j % 700 == 0 || j == 2099, plain::add).network().close();
            LstmTrainer.train(b, lstmConfig(2100), j -> j % 700 == 0 || j == 2099, watched::add).network().close();
        }
        assertEquals(4, plain.size());
        for (int i = 0; i < plain.size(); i++) {
            assertEquals(plain.get(i).iteration(), watched.get(i).iteration());
            assertEquals(plain.get(i).loss(), watched.get(i).loss());
        }
    }

    private static void train(LstmLayer.Cell cell, Backend backend, LstmTrainer.Config config, IntPredicate observe,
                              List<LstmTrainer.Report> reports) {
        Trained<LstmLayer> t = cell == LstmLayer.Cell.SEED ? LstmTrainer.train(backend, config, observe, reports::add)
                : LstmTrainer.trainStandard(backend, config, observe, reports::add);
        t.network().close();
    }
}
