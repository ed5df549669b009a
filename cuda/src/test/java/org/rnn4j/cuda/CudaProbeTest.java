package org.rnn4j.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The probe on any machine: it never throws, caches its answer, and explains itself in one line. */
class CudaProbeTest {

    @Test
    void probeAnswersOnceInOneLine() {
        CudaProbe.Result r = CudaProbe.get();
        assertSame(r, CudaProbe.get(), "the probe runs once per process");
        assertNotNull(r.reason());
        assertFalse(r.reason().isBlank());
        assertFalse(r.reason().contains("\n"), "one line: " + r.reason());
        if (r.usable()) {
            assertNotNull(r.gemm());
            assertTrue(r.devices().size() > 0);
        } else {
            assertEquals(null, r.device());
        }
    }

    @Test
    void jcudasLoadingErrorBecomesOneLine() {
        String jcuda = "Error while loading native library \"JCudaDriver-12.6.0-linux-x86_64\"\n"
                + "Operating system name: Linux\nArchitecture         : amd64\n"
                + "Stack trace from the attempt to load the library as a file:\n"
                + "java.lang.UnsatisfiedLinkError: /tmp/libJCudaDriver-12.6.0-linux-x86_64.so: libcuda.so.1: "
                + "cannot open shared object file: No such file or directory\n\tat java.base/...";
        assertEquals("libcuda.so.1 not found",
                CudaProbe.libraryProblem(new UnsatisfiedLinkError(jcuda), "libcuda.so.1"));
        String other = jcuda.replace("libcuda.so.1: cannot", "libstdc++.so.6: cannot");
        assertEquals("libstdc++.so.6 not found",
                CudaProbe.libraryProblem(new UnsatisfiedLinkError(other), "libcuda.so.1"));
        assertEquals("something else", CudaProbe.libraryProblem(new UnsatisfiedLinkError("something else"), "x"));
    }

    @Test
    void aNoexecLibraryDirectoryIsNamedWithTheFix() {
        String jcuda = "Error while loading native library \"JCudaDriver-12.6.0-linux-x86_64\"\n"
                + "Stack trace from the attempt to load the library as a resource:\n"
                + "java.lang.UnsatisfiedLinkError: /m/native/libJCudaDriver-12.6.0-linux-x86_64.so: "
                + "/m/native/libJCudaDriver-12.6.0-linux-x86_64.so: failed to map segment from shared object\n"
                + "\tat java.base/...";
        assertEquals("cannot load /m/native/libJCudaDriver-12.6.0-linux-x86_64.so: its file system does not allow "
                + "loading code (mounted noexec?); set RNN4J_NATIVE_DIR to a directory on another",
                CudaProbe.libraryProblem(new UnsatisfiedLinkError(jcuda), "libcuda.so.1"));
    }

    @Test
    void theProbeNamesTheNativeLibraryDirectory() throws IOException {
        // The full probe (get() skips it, and names no directory, where libcuda.so.1 is plainly absent).
        CudaProbe.Result r = CudaProbe.probe(NativeLibraries.directory(), null, null);
        assertNotNull(r.nativeDir());
        assertTrue(Files.isSameFile(NativeLibraries.directory(), r.nativeDir()), r.nativeDir().toString());
    }

    @Test
    void driverVersionsReadAsCudaWritesThem() {
        assertEquals("13.0", CudaProbe.version(13000));
        assertEquals("12.6", CudaProbe.version(12060));
        assertEquals("unknown", CudaProbe.version(0));
    }

    @Test
    void theDriverIsPlainlyAbsentOnlyWhenNeitherTheLoaderCacheNorAnyDirectoryHasIt(@TempDir Path tmp)
            throws java.io.IOException {
        org.junit.jupiter.api.Assumptions.assumeTrue(System.getProperty("os.name").startsWith("Linux"), "Linux only");
        Path cache = tmp.resolve("ld.so.cache");
        java.nio.file.Files.write(cache, "glibc-ld.so.cache1.1\0libc.so.6\0/lib/x86_64-linux-gnu/libc.so.6\0"
                .getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
        Path empty = java.nio.file.Files.createDirectory(tmp.resolve("empty"));
        Path driver = java.nio.file.Files.createDirectory(tmp.resolve("driver"));
        java.nio.file.Files.createFile(driver.resolve("libcuda.so.1"));
        List<String> none = List.of(empty.toString());

        assertTrue(CudaProbe.driverPlainlyAbsent(null, cache, none));
        assertTrue(CudaProbe.driverPlainlyAbsent(empty + "::" + empty, cache, none));
        // named by the loader's cache, in LD_LIBRARY_PATH, or in one of the usual directories: not absent
        Path cached = tmp.resolve("ld.so.cache.cuda");
        java.nio.file.Files.write(cached, "x\0libcuda.so.1\0/usr/lib/x86_64-linux-gnu/libcuda.so.1\0"
                .getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
        assertFalse(CudaProbe.driverPlainlyAbsent(null, cached, none));
        assertFalse(CudaProbe.driverPlainlyAbsent(empty + ":" + driver, cache, none));
        assertFalse(CudaProbe.driverPlainlyAbsent(null, cache, List.of(empty.toString(), driver.toString())));
        // unsure (no readable cache): not absent, the full probe decides
        assertFalse(CudaProbe.driverPlainlyAbsent(null, tmp.resolve("missing"), none));
    }
}
