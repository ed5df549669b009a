package org.rnn4j.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@link Cleanup}, the release stack of {@link CudaBackend}'s constructor and {@code close}: without a GPU, with
 * releases that record their order and fail on demand, as cuStreamDestroy or cuModuleUnload could.
 */
class CleanupTest {

    private final List<String> log = new ArrayList<>();

    private Runnable release(String name) {
        return () -> log.add(name);
    }

    private Runnable failing(String name) {
        return () -> {
            log.add(name);
            throw new IllegalStateException(name + " failed");
        };
    }

    @Test
    void releasesRunLastFirstAndOnce() {
        Cleanup c = new Cleanup();
        c.push(release("context"));
        c.push(release("stream"));
        c.push(release("kernels"));
        assertEquals(3, c.size());
        c.runAll();
        assertEquals(List.of("kernels", "stream", "context"), log);
        assertEquals(0, c.size());
        c.runAll();
        assertEquals(3, log.size(), "a second run releases nothing again");
    }

    @Test
    void aConstructorFailingHalfWayReleasesWhatItMadeAndReportsItsOwnError() {
        // The shape of CudaBackend's constructor: the context and stream exist, the kernels fail to load.
        Cleanup c = new Cleanup();
        RuntimeException failure = assertThrows(RuntimeException.class, () -> {
            try {
                c.push(release("context"));
                c.push(release("stream"));
                throw new RuntimeException("CUDA_ERROR_NO_BINARY_FOR_GPU");
            } catch (RuntimeException e) {
                c.runAllAfter(e);
                throw e;
            }
        });
        assertEquals("CUDA_ERROR_NO_BINARY_FOR_GPU", failure.getMessage());
        assertEquals(List.of("stream", "context"), log, "the stream is released, then the context");
        assertEquals(0, failure.getSuppressed().length);
    }

    @Test
    void aFailingReleaseDoesNotStopTheOthers() {
        Cleanup c = new Cleanup();
        c.push(release("context"));
        c.push(failing("stream"));
        c.push(release("kernels"));
        c.push(failing("cublas"));
        IllegalStateException e = assertThrows(IllegalStateException.class, c::runAll);
        assertEquals(List.of("cublas", "kernels", "stream", "context"), log);
        assertEquals("cublas failed", e.getMessage(), "the first failure is thrown");
        assertEquals(1, e.getSuppressed().length);
        assertEquals("stream failed", e.getSuppressed()[0].getMessage());
    }

    @Test
    void afterAFailureReleaseErrorsAreSuppressedIntoIt() {
        Cleanup c = new Cleanup();
        c.push(failing("context"));
        c.push(failing("stream"));
        c.push(release("kernels"));
        LinkageError original = new NoClassDefFoundError("jcuda/jcublas/JCublas2");
        c.runAllAfter(original);
        assertEquals(List.of("kernels", "stream", "context"), log);
        assertArrayEquals(new String[] {"stream failed", "context failed"},
                java.util.Arrays.stream(original.getSuppressed()).map(Throwable::getMessage).toArray());
        assertSame(NoClassDefFoundError.class, original.getClass());
    }
}
