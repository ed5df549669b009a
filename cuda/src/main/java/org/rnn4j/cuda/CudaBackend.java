package org.rnn4j.cuda;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Locale;
import jcuda.Pointer;
import jcuda.driver.CUDA_MEMCPY2D;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUevent;
import jcuda.driver.CUevent_flags;
import jcuda.driver.CUfunction;
import jcuda.driver.CUgraph;
import jcuda.driver.CUgraphExec;
import jcuda.driver.CUmemorytype;
import jcuda.driver.CUstream;
import jcuda.driver.CUstreamCaptureMode;
import jcuda.driver.CUstream_flags;
import jcuda.driver.JCudaDriver;
import jcuda.jcublas.JCublas2;
import jcuda.jcublas.cublasHandle;
import jcuda.jcublas.cublasMath;
import jcuda.jcublas.cublasOperation;
import jcuda.jcublas.cublasPointerMode;
import jcuda.runtime.cudaStream_t;
import org.rnn4j.backend.Backend;
import org.rnn4j.backend.Backend.Replay;
import org.rnn4j.backend.Buffer;
import org.rnn4j.backend.ColumnSums;
import org.rnn4j.backend.Philox;
import org.rnn4j.backend.Precision;
import org.rnn4j.backend.spi.AbstractBackend;
import org.rnn4j.backend.spi.Allocation;
import org.rnn4j.kernels.KernelImages;

/**
 * The CUDA backend: buffers in device memory, rnn4j's own kernels for the elementwise work, and GEMMs by cuBLAS or one
 * of rnn4j's two GEMM kernels, fast or exact (the path is chosen by {@link GemmChoice}), all queued in order on one stream of the device's primary
 * context. No operation waits for the device except {@link #download} and {@link #synchronize}; {@link #upload} fills one
 * of two pinned host buffers and copies asynchronously (it waits only when that buffer's previous copy, two uploads
 * back, has not finished). {@link #record} captures a CUDA graph.
 *
 * <p>One class serves both precisions: device memory is untyped, and the precision picks the {@code _f32} or
 * {@code _f64} kernels, {@code cublasSgemm} or {@code cublasDgemm}, and the width of scalars and host transfers.
 * Created only through {@link CudaBackendProvider} once {@link CudaProbe} has said CUDA is usable.
 */
public final class CudaBackend extends AbstractBackend {

    private final class DeviceMemory extends Allocation {
        private final CUdeviceptr base;

        DeviceMemory(int length) {
            super(CudaBackend.this, length);
            CUdeviceptr p = new CUdeviceptr();
            JCudaDriver.cuMemAlloc(p, bytes(length));
            this.base = p;
            // Zero-filled, as Backend.allocate promises; ordered before any later work on the stream.
            JCudaDriver.cuMemsetD8Async(base, (byte) 0, bytes(length), stream);
        }

        @Override
        protected void release() {
            JCudaDriver.cuCtxSetCurrent(context);
            JCudaDriver.cuMemFree(base);
        }
    }

    /** CUDA's limit on a grid's y dimension. */
    private static final int MAX_GRID_Y = 65535;

    private final CudaProbe.Device device;
    private final CudaProbe.GemmPath gemmPath;
    private final String driverVersion;
    private final int elementBytes;
    private final CUdevice deviceHandle = new CUdevice();
    private final CUcontext context = new CUcontext();
    private final CUstream stream = new CUstream();
    /** The releases of what the constructor made (context, stream, kernels, cuBLAS), run by {@link #doClose}. */
    private final Cleanup owned = new Cleanup();
    private final CudaKernels kernels;
    private final cublasHandle cublas;
    /**
     * cuBLAS's workspace, owned here: set once so that cuBLAS never allocates during a graph capture (NVIDIA's
     * advice for graphs: 32 MiB covers Hopper's kernels).
     */
    private final CUdeviceptr cublasWorkspace;
    private static final long CUBLAS_WORKSPACE_BYTES = 32L << 20;
    /**
     * The partial sums of the two-stage {@link #sumRows}: {@link ColumnSums#MAX_PARTIALS} elements, allocated once so
     * that nothing is allocated while a graph is captured and a recorded graph's pointer stays valid.
     */
    private final CUdeviceptr sumScratch;
    /** Pinned host staging for transfers: two buffers, so one upload can fill while the other is still copying. */
    private final Staging[] staging = {new Staging(), new Staging()};
    private int nextStaging;

    CudaBackend(Precision precision, CudaProbe.Result probe, CudaProbe.GemmPath gemmPath) {
        this(precision, probe, gemmPath, null);
    }

    /**
     * @param afterSetup for tests: run once everything is made, as the constructor's last step; what it throws
     *                   makes the constructor fail there, after every resource exists (null in normal use)
     */
    CudaBackend(Precision precision, CudaProbe.Result probe, CudaProbe.GemmPath gemmPath, Runnable afterSetup) {
        super(precision);
        if (!probe.usable()) {
            throw new IllegalStateException("CUDA is not usable here: " + probe.reason());
        }
        this.device = probe.device();
        this.gemmPath = gemmPath;
        this.driverVersion = probe.driverText();
        this.elementBytes = precision.bytes();
        JCudaDriver.setExceptionsEnabled(true);
        JCudaDriver.cuDeviceGet(deviceHandle, device.ordinal());
        // Each resource's release is registered as soon as it exists: a failure at any step (kernels that do not load,
        // cuBLAS missing, out of memory) releases exactly what was made before it, last first.
        CudaKernels loaded = null;
        cublasHandle handle = null;
        CUdeviceptr workspace = null;
        CUdeviceptr scratch = null;
        try {
            JCudaDriver.cuDevicePrimaryCtxRetain(context, deviceHandle);
            owned.push(() -> JCudaDriver.cuDevicePrimaryCtxRelease(deviceHandle));
            JCudaDriver.cuCtxSetCurrent(context);
            JCudaDriver.cuStreamCreate(stream, CUstream_flags.CU_STREAM_NON_BLOCKING);
            owned.push(() -> JCudaDriver.cuStreamDestroy(stream));
            CudaKernels k = new CudaKernels(precision);
            owned.push(k::close);
            loaded = k;
            CUdeviceptr sums = new CUdeviceptr();
            JCudaDriver.cuMemAlloc(sums, bytes(ColumnSums.MAX_PARTIALS));
            owned.push(() -> JCudaDriver.cuMemFree(sums));
            scratch = sums;
            if (gemmPath.cublas()) {
                CUdeviceptr w = new CUdeviceptr();
                JCudaDriver.cuMemAlloc(w, CUBLAS_WORKSPACE_BYTES);
                owned.push(() -> JCudaDriver.cuMemFree(w));
                workspace = w;
                JCublas2.setExceptionsEnabled(true);
                cublasHandle h = new cublasHandle();
                JCublas2.cublasCreate(h);
                owned.push(() -> JCublas2.cublasDestroy(h)); // runs before the workspace it uses is freed
                handle = h;
                JCublas2.cublasSetStream(handle, new cudaStream_t(stream));
                JCublas2.cublasSetPointerMode(handle, cublasPointerMode.CUBLAS_POINTER_MODE_HOST);
                // Plain IEEE arithmetic: no TF32 for float32, so results can be held to the CPU's.
                JCublas2.cublasSetMathMode(handle, cublasMath.CUBLAS_DEFAULT_MATH);
                JCublas2.cublasSetWorkspace(handle, workspace, CUBLAS_WORKSPACE_BYTES);
            }
            if (afterSetup != null) {
                afterSetup.run();
            }
        } catch (RuntimeException | Error e) {
            owned.runAllAfter(e);
            throw e;
        }
        this.kernels = loaded;
        this.cublas = handle;
        this.cublasWorkspace = workspace;
        this.sumScratch = scratch;
    }

    @Override
    public String name() {
        return "cuda";
    }

    @Override
    public String description() {
        return String.format(Locale.ROOT, "CUDA on %s (%s, driver %s), %s, %s", device.name(), device.arch(),
                driverVersion, precision().cliName(), gemmPath.line());
    }

    /**
     * Which GEMM path this backend uses, and why; fixed when the backend is made.
     *
     * @return the path: cuBLAS, the fast kernel or the exact kernel, with the reason
     */
    public CudaProbe.GemmPath gemmPath() {
        return gemmPath;
    }

    /** The device's free memory now ({@code cuMemGetInfo}), for estimates before allocating. */
    @Override
    public java.util.OptionalLong deviceFreeBytes() {
        if (isClosed()) {
            throw new IllegalStateException("the backend is closed");
        }
        bind();
        long[] free = new long[1];
        long[] total = new long[1];
        JCudaDriver.cuMemGetInfo(free, total);
        return java.util.OptionalLong.of(free[0]);
    }

    private long bytes(long elements) {
        return elements * elementBytes;
    }

    /** The device address of a buffer's first element. */
    private CUdeviceptr ptr(Buffer buffer) {
        DeviceMemory m = (DeviceMemory) buffer.allocation();
        return m.base.withByteOffset(bytes(buffer.offset()));
    }

    private void bind() {
        JCudaDriver.cuCtxSetCurrent(context);
    }

    private KernelArgs args() {
        return new KernelArgs(precision());
    }

    /** One thread per element, in blocks of {@link KernelImages#ELEMENTWISE_BLOCK}; nothing for zero elements. */
    private void launch1d(String kernel, int elements, KernelArgs args) {
        if (elements == 0) {
            return; // a grid of 0 blocks is CUDA_ERROR_INVALID_VALUE; AbstractBackend already skips empty operations
        }
        int block = KernelImages.ELEMENTWISE_BLOCK;
        int grid = (int) ((elements + (long) block - 1) / block);
        CUfunction f = kernels.get(kernel);
        JCudaDriver.cuLaunchKernel(f, grid, 1, 1, block, 1, 1, 0, stream, args.toPointer(), null);
    }

    /**
     * The cross-entropy's row kernels: one warp of {@link KernelImages#CROSS_ENTROPY_LANES} threads per row, rows packed
     * into blocks of {@link KernelImages#ELEMENTWISE_BLOCK} threads; nothing for zero rows.
     */
    private void launchWarpRows(String kernel, int rows, KernelArgs args) {
        if (rows == 0) {
            return;
        }
        int block = KernelImages.ELEMENTWISE_BLOCK;
        int rowsPerBlock = block / KernelImages.CROSS_ENTROPY_LANES;
        int grid = (int) (((long) rows + rowsPerBlock - 1) / rowsPerBlock);
        JCudaDriver.cuLaunchKernel(kernels.get(kernel), grid, 1, 1, block, 1, 1, 0, stream, args.toPointer(), null);
    }

    /** Transfers go through the staging buffer in chunks of at most this many elements (8 MiB of float64). */
    private static final int CHUNK = 1 << 20;

    /**
     * One pinned (page-locked) host buffer, grown on demand up to one chunk, and the event recorded after the last
     * copy out of it: copies from pinned memory are truly asynchronous, so the buffer may be refilled only once that
     * copy has finished.
     */
    private final class Staging {
        private Pointer host;
        private ByteBuffer view = ByteBuffer.allocateDirect(0);
        private CUevent copied;
        private boolean pending;

        /** The buffer, empty, with room for {@code bytes}, after its previous copy has finished. */
        ByteBuffer take(long bytes) {
            if (pending) {
                JCudaDriver.cuEventSynchronize(copied);
                pending = false;
            }
            if (view.capacity() < bytes) {
                release();
                long size = Math.min(Math.max(bytes, view.capacity() * 2L), (long) CHUNK * Double.BYTES);
                Pointer p = new Pointer();
                JCudaDriver.cuMemAllocHost(p, size);
                host = p;
                view = p.getByteBuffer(0, size).order(ByteOrder.nativeOrder());
            }
            view.clear();
            return view;
        }

        Pointer pointer() {
            return host;
        }

        /** Marks the copy just issued from this buffer; the next {@link #take} waits for it. */
        void copyIssued() {
            if (copied == null) {
                copied = new CUevent();
                JCudaDriver.cuEventCreate(copied, CUevent_flags.CU_EVENT_DISABLE_TIMING);
            }
            JCudaDriver.cuEventRecord(copied, stream);
            pending = true;
        }

        void release() {
            if (host != null) {
                JCudaDriver.cuMemFreeHost(host);
                host = null;
                view = ByteBuffer.allocateDirect(0);
            }
        }

        void close() {
            release();
            if (copied != null) {
                JCudaDriver.cuEventDestroy(copied);
                copied = null;
            }
        }
    }

    private Staging nextStaging() {
        Staging s = staging[nextStaging];
        nextStaging = (nextStaging + 1) % staging.length;
        return s;
    }

    @Override
    protected Allocation doAllocate(int length) {
        bind();
        return new DeviceMemory(length);
    }

    @Override
    protected void doUpload(double[] src, int srcOffset, Buffer dst) {
        bind();
        CUdeviceptr base = ptr(dst);
        for (int done = 0; done < dst.length(); done += CHUNK) {
            int n = Math.min(CHUNK, dst.length() - done);
            Staging slot = nextStaging();
            ByteBuffer host = slot.take(bytes(n));
            if (precision() == Precision.FLOAT32) {
                for (int i = 0; i < n; i++) {
                    host.putFloat(i * Float.BYTES, (float) src[srcOffset + done + i]);
                }
            } else {
                host.asDoubleBuffer().put(src, srcOffset + done, n);
            }
            // Asynchronous from pinned memory: the call returns at once, the copy runs in stream order.
            JCudaDriver.cuMemcpyHtoDAsync(base.withByteOffset(bytes(done)), slot.pointer(), bytes(n), stream);
            slot.copyIssued();
        }
    }

    @Override
    protected void doDownload(Buffer src, double[] dst, int dstOffset) {
        bind();
        CUdeviceptr base = ptr(src);
        for (int done = 0; done < src.length(); done += CHUNK) {
            int n = Math.min(CHUNK, src.length() - done);
            Staging slot = nextStaging();
            ByteBuffer host = slot.take(bytes(n));
            JCudaDriver.cuMemcpyDtoHAsync(slot.pointer(), base.withByteOffset(bytes(done)), bytes(n), stream);
            JCudaDriver.cuStreamSynchronize(stream); // waits for all earlier work on the stream, then for the copy
            if (precision() == Precision.FLOAT32) {
                for (int i = 0; i < n; i++) {
                    dst[dstOffset + done + i] = host.getFloat(i * Float.BYTES);
                }
            } else {
                host.asDoubleBuffer().get(dst, dstOffset + done, n);
            }
        }
    }

    @Override
    protected void doUploadFloats(float[] src, int srcOffset, Buffer dst) {
        bind();
        CUdeviceptr base = ptr(dst);
        for (int done = 0; done < dst.length(); done += CHUNK) {
            int n = Math.min(CHUNK, dst.length() - done);
            Staging slot = nextStaging();
            ByteBuffer host = slot.take(bytes(n));
            if (precision() == Precision.FLOAT32) {
                host.asFloatBuffer().put(src, srcOffset + done, n); // a bulk copy: float32 holds floats as they are
            } else {
                for (int i = 0; i < n; i++) {
                    host.putDouble(i * Double.BYTES, src[srcOffset + done + i]);
                }
            }
            JCudaDriver.cuMemcpyHtoDAsync(base.withByteOffset(bytes(done)), slot.pointer(), bytes(n), stream);
            slot.copyIssued();
        }
    }

    @Override
    protected void doDownloadFloats(Buffer src, float[] dst, int dstOffset) {
        bind();
        CUdeviceptr base = ptr(src);
        for (int done = 0; done < src.length(); done += CHUNK) {
            int n = Math.min(CHUNK, src.length() - done);
            Staging slot = nextStaging();
            ByteBuffer host = slot.take(bytes(n));
            JCudaDriver.cuMemcpyDtoHAsync(slot.pointer(), base.withByteOffset(bytes(done)), bytes(n), stream);
            JCudaDriver.cuStreamSynchronize(stream);
            if (precision() == Precision.FLOAT32) {
                host.asFloatBuffer().get(dst, dstOffset + done, n);
            } else {
                for (int i = 0; i < n; i++) {
                    dst[dstOffset + done + i] = (float) host.getDouble(i * Double.BYTES);
                }
            }
        }
    }

    @Override
    protected void doGemm(boolean transA, boolean transB, int m, int n, int k,
                          double alpha, Buffer a, int lda, Buffer b, int ldb,
                          double beta, Buffer c, int ldc) {
        bind();
        if (cublas != null) {
            // cuBLAS is column-major; a row-major (m, n) C is a column-major (n, m) C^T = op(B)^T op(A)^T, so the
            // operands swap places and keep their leading dimensions.
            int opA = transA ? cublasOperation.CUBLAS_OP_T : cublasOperation.CUBLAS_OP_N;
            int opB = transB ? cublasOperation.CUBLAS_OP_T : cublasOperation.CUBLAS_OP_N;
            if (precision() == Precision.FLOAT32) {
                JCublas2.cublasSgemm(cublas, opB, opA, n, m, k, Pointer.to(new float[] {(float) alpha}),
                        ptr(b), ldb, ptr(a), lda, Pointer.to(new float[] {(float) beta}), ptr(c), ldc);
            } else {
                JCublas2.cublasDgemm(cublas, opB, opA, n, m, k, Pointer.to(new double[] {alpha}),
                        ptr(b), ldb, ptr(a), lda, Pointer.to(new double[] {beta}), ptr(c), ldc);
            }
            return;
        }
        if (gemmPath.kind() == GemmChoice.Kind.FAST) {
            // The fast kernel: one square tile of C per block of 16x16 threads (128 float32, 64 float64), grid
            // (ceil(n / tile), ceil(m / tile)); it handles the edges, any leading dimension and alignment itself.
            int tile = KernelImages.fastGemmTile(precision() == Precision.FLOAT32);
            int threads = KernelImages.FAST_GEMM_THREADS;
            launchGemmBands(CudaKernels.GEMM_FAST, tile, threads, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta,
                    c, ldc);
            return;
        }
        // The exact kernel: one 16x16 tile of C per block, one output per thread, grid (ceil(n/16), ceil(m/16)).
        int tile = KernelImages.GEMM_TILE;
        launchGemmBands(CudaKernels.GEMM, tile, tile, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    }

    /**
     * Launches one of rnn4j's GEMM kernels, a tile x tile block of C per block of threads x threads threads. A grid's
     * y dimension is limited to 65535 blocks, so taller products run in bands of rows: a band of C starts at row r0,
     * and so does A's band (at element r0 of each row of the stored A when A is transposed).
     */
    private void launchGemmBands(String kernel, int tile, int threads, boolean transA, boolean transB, int m, int n,
                                 int k, double alpha, Buffer a, int lda, Buffer b, int ldb, double beta, Buffer c,
                                 int ldc) {
        int bandRows = MAX_GRID_Y * tile;
        for (int r0 = 0; r0 < m; r0 += bandRows) {
            int rows = Math.min(bandRows, m - r0);
            CUdeviceptr aBand = ptr(a).withByteOffset(bytes(transA ? r0 : (long) r0 * lda));
            CUdeviceptr cBand = ptr(c).withByteOffset(bytes((long) r0 * ldc));
            KernelArgs args = args().flag(transA).flag(transB).i(rows).i(n).i(k).scalar(alpha).ptr(aBand).i(lda)
                    .ptr(ptr(b)).i(ldb).scalar(beta).ptr(cBand).i(ldc);
            JCudaDriver.cuLaunchKernel(kernels.get(kernel), (n + tile - 1) / tile, (rows + tile - 1) / tile, 1,
                    threads, threads, 1, 0, stream, args.toPointer(), null);
        }
    }

    @Override
    protected void doCopyMatrix(int rows, int cols, Buffer src, int ldSrc, Buffer dst, int ldDst) {
        bind();
        CUDA_MEMCPY2D copy = new CUDA_MEMCPY2D();
        copy.srcMemoryType = CUmemorytype.CU_MEMORYTYPE_DEVICE;
        copy.srcDevice = ptr(src);
        copy.srcPitch = bytes(ldSrc);
        copy.dstMemoryType = CUmemorytype.CU_MEMORYTYPE_DEVICE;
        copy.dstDevice = ptr(dst);
        copy.dstPitch = bytes(ldDst);
        copy.WidthInBytes = bytes(cols);
        copy.Height = rows;
        JCudaDriver.cuMemcpy2DAsync(copy, stream);
    }

    @Override
    protected void doSigmoidForward(Buffer x, Buffer y) {
        bind();
        int n = x.length();
        launch1d(CudaKernels.SIGMOID_FORWARD, n, args().i(n).ptr(ptr(x)).ptr(ptr(y)));
    }

    @Override
    protected void doSigmoidBackward(Buffer dy, Buffer y, Buffer dx) {
        bind();
        int n = dy.length();
        launch1d(CudaKernels.SIGMOID_BACKWARD, n, args().i(n).ptr(ptr(dy)).ptr(ptr(y)).ptr(ptr(dx)));
    }

    @Override
    protected void doSeedLstmCellForward(int batch, int hidden, Buffer preact, Buffer bias, Buffer sPrev,
                                         Buffer gates, Buffer s, Buffer h) {
        bind();
        launch1d(CudaKernels.SEED_LSTM_FORWARD, batch * hidden, args().i(batch).i(hidden).ptr(ptr(preact))
                .ptr(ptr(bias)).ptr(ptr(sPrev)).ptr(ptr(gates)).ptr(ptr(s)).ptr(ptr(h)));
    }

    @Override
    protected void doSeedLstmCellBackward(int batch, int hidden, Buffer gates, Buffer s, Buffer sPrev, Buffer dh,
                                          Buffer dsNext, Buffer dPreact, Buffer dsPrev) {
        bind();
        launch1d(CudaKernels.SEED_LSTM_BACKWARD, batch * hidden, args().i(batch).i(hidden).ptr(ptr(gates))
                .ptr(ptr(s)).ptr(ptr(sPrev)).ptr(ptr(dh)).ptr(ptr(dsNext)).ptr(ptr(dPreact)).ptr(ptr(dsPrev)));
    }

    @Override
    protected void doStandardLstmCellForward(int batch, int hidden, Buffer preact, Buffer biasIh, Buffer biasHh,
                                             Buffer cPrev, Buffer gates, Buffer c, Buffer h) {
        bind();
        launch1d(CudaKernels.STANDARD_LSTM_FORWARD, batch * hidden, args().i(batch).i(hidden).ptr(ptr(preact))
                .ptr(ptr(biasIh)).ptr(ptr(biasHh)).ptr(ptr(cPrev)).ptr(ptr(gates)).ptr(ptr(c)).ptr(ptr(h)));
    }

    @Override
    protected void doStandardLstmCellBackward(int batch, int hidden, Buffer gates, Buffer c, Buffer cPrev, Buffer dh,
                                              Buffer dcNext, Buffer dPreact, Buffer dcPrev) {
        bind();
        launch1d(CudaKernels.STANDARD_LSTM_BACKWARD, batch * hidden, args().i(batch).i(hidden).ptr(ptr(gates))
                .ptr(ptr(c)).ptr(ptr(cPrev)).ptr(ptr(dh)).ptr(ptr(dcNext)).ptr(ptr(dPreact)).ptr(ptr(dcPrev)));
    }

    @Override
    protected void doSumRows(int rows, int cols, Buffer src, Buffer dst, boolean accumulate) {
        bind();
        // The order of ColumnSums (the CPU backends' too): one pass per column for one chunk; else the chunks' sums
        // into the scratch (one thread per chunk and column), then each column's sum of its chunks.
        int chunkRows = ColumnSums.chunkRows(rows, cols);
        int chunks = ColumnSums.chunks(rows, cols);
        if (chunks == 1) {
            launch1d(CudaKernels.SUM_ROWS, cols, args().i(rows).i(cols).ptr(ptr(src)).ptr(ptr(dst)).flag(accumulate));
            return;
        }
        launch1d(CudaKernels.SUM_ROWS_CHUNKS, chunks * cols,
                args().i(rows).i(cols).i(chunkRows).i(chunks).ptr(ptr(src)).ptr(sumScratch));
        launch1d(CudaKernels.SUM_ROWS, cols, args().i(chunks).i(cols).ptr(sumScratch).ptr(ptr(dst)).flag(accumulate));
    }

    @Override
    protected void doSgdUpdate(Buffer params, Buffer grads, double learningRate) {
        bind();
        int n = params.length();
        launch1d(CudaKernels.SGD_UPDATE, n, args().i(n).ptr(ptr(params)).ptr(ptr(grads)).scalar(learningRate));
    }

    /** One block of {@link Backend#REDUCE_LANES} threads per chunk: the deterministic reduction's launches. */
    private void launchLanes(String kernel, int blocks, KernelArgs args) {
        JCudaDriver.cuLaunchKernel(kernels.get(kernel), blocks, 1, 1, Backend.REDUCE_LANES, 1, 1, 0, stream,
                args.toPointer(), null);
    }

    /** Chunks of the deterministic reduction of {@code n} items (Backend's class comment). */
    private static int chunks(int n, int chunk) {
        return (int) (((long) n + chunk - 1) / chunk);
    }

    @Override
    protected void doCrossEntropyForward(int rows, int classes, Buffer logits, Buffer targets, Buffer loss,
                                         boolean mean) {
        bind();
        if (mean) {
            int chunk = Backend.reduceChunk(rows, Backend.REDUCE_BASE_ROWS);
            int chunks = chunks(rows, chunk);
            launchLanes(CudaKernels.CROSS_ENTROPY_MEAN_PARTIAL, chunks, args().i(rows).i(classes).i(chunk)
                    .ptr(ptr(logits)).ptr(ptr(targets)));
            launchLanes(CudaKernels.MEAN_FINISH, 1, args().i(chunks).i(rows).ptr(ptr(loss)));
        } else {
            launchWarpRows(CudaKernels.CROSS_ENTROPY_FORWARD, rows, args().i(rows).i(classes).ptr(ptr(logits))
                    .ptr(ptr(targets)).ptr(ptr(loss)));
        }
    }

    @Override
    protected void doCrossEntropyBackward(int rows, int classes, Buffer logits, Buffer targets, double scale,
                                          Buffer dLogits) {
        bind();
        launchWarpRows(CudaKernels.CROSS_ENTROPY_BACKWARD, rows, args().i(rows).i(classes).ptr(ptr(logits))
                .ptr(ptr(targets)).scalar(scale).ptr(ptr(dLogits)));
    }

    @Override
    protected void doMseForward(Buffer pred, Buffer target, Buffer loss) {
        bind();
        int n = pred.length();
        int chunk = Backend.reduceChunk(n, Backend.REDUCE_BASE_ELEMENTS);
        int chunks = chunks(n, chunk);
        if (chunks > 0) {
            launchLanes(CudaKernels.MSE_PARTIAL, chunks, args().i(n).i(chunk).ptr(ptr(pred)).ptr(ptr(target)));
        }
        launchLanes(CudaKernels.MEAN_FINISH, 1, args().i(chunks).i(n).ptr(ptr(loss)));
    }

    @Override
    protected void doMseBackward(Buffer pred, Buffer target, double scale, Buffer dPred) {
        bind();
        int n = pred.length();
        if (n > 0) {
            launch1d(CudaKernels.MSE_BACKWARD, n, args().i(n).ptr(ptr(pred)).ptr(ptr(target)).scalar(scale)
                    .ptr(ptr(dPred)));
        }
    }

    @Override
    protected void doEmbeddingForward(int vocab, int dim, Buffer table, Buffer indices, Buffer out) {
        bind();
        int n = indices.length();
        if (n > 0) {
            launch1d(CudaKernels.EMBEDDING_FORWARD, n * dim, args().i(n).i(dim).i(vocab).ptr(ptr(table))
                    .ptr(ptr(indices)).ptr(ptr(out)));
        }
    }

    /** Threads the embedding gradient aims for: each owns some rows of one column and walks every index. */
    private static final int EMBEDDING_THREADS = 65536;

    @Override
    protected void doEmbeddingBackward(int vocab, int dim, Buffer indices, Buffer dOut, Buffer dTable,
                                       boolean accumulate) {
        bind();
        // The vocabulary in parts of rowsPerPart rows; thread (part, e) owns its part's rows of column e. Any
        // partition gives the same result (each element sums in ascending i); this one aims at about 65536 threads.
        int wanted = (int) Math.min(vocab, Math.max(1, (EMBEDDING_THREADS + (long) dim - 1) / dim));
        int rowsPerPart = (vocab + wanted - 1) / wanted;
        int parts = (vocab + rowsPerPart - 1) / rowsPerPart;
        launch1d(CudaKernels.EMBEDDING_BACKWARD, parts * dim, args().i(indices.length()).i(dim).i(vocab)
                .i(rowsPerPart).i(parts).ptr(ptr(indices)).ptr(ptr(dOut)).ptr(ptr(dTable)).flag(accumulate));
    }

    @Override
    protected void doBiasAdd(int rows, int cols, Buffer x, Buffer bias, Buffer y) {
        bind();
        launch1d(CudaKernels.BIAS_ADD, rows * cols, args().i(rows).i(cols).ptr(ptr(x)).ptr(ptr(bias)).ptr(ptr(y)));
    }

    @Override
    protected void doDropoutForward(Buffer x, double p, long seed, long offset, Buffer mask, Buffer y) {
        bind();
        int n = x.length();
        if (n > 0) {
            long threshold = Philox.dropThreshold(p);
            double scale = precision() == Precision.FLOAT32 ? 1 / (float) (1 - p) : 1 / (1 - p);
            launch1d(CudaKernels.DROPOUT_FORWARD, (int) ((n + 3L) / 4), args().i(n).ptr(ptr(x)).i((int) seed)
                    .i((int) (seed >>> 32)).i((int) offset).i((int) (offset >>> 32)).i((int) threshold)
                    .scalar(scale).ptr(ptr(mask)).ptr(ptr(y)));
        }
    }

    @Override
    protected void doDropoutBackward(Buffer dy, Buffer mask, Buffer dx) {
        bind();
        int n = dy.length();
        if (n > 0) {
            launch1d(CudaKernels.DROPOUT_BACKWARD, n, args().i(n).ptr(ptr(dy)).ptr(ptr(mask)).ptr(ptr(dx)));
        }
    }

    @Override
    protected void doL2Norm(Buffer x, Buffer norm) {
        bind();
        int n = x.length();
        int chunk = Backend.reduceChunk(n, Backend.REDUCE_BASE_ELEMENTS);
        int chunks = chunks(n, chunk);
        if (chunks > 0) {
            launchLanes(CudaKernels.L2NORM_PARTIAL, chunks, args().i(n).i(chunk).ptr(ptr(x)));
        }
        launchLanes(CudaKernels.L2NORM_FINISH, 1, args().i(chunks).ptr(ptr(norm)));
    }

    @Override
    protected void doClipCoefficient(Buffer norm, double maxNorm, Buffer coef) {
        bind();
        launch1d(CudaKernels.CLIP_COEFFICIENT, 1, args().ptr(ptr(norm)).scalar(maxNorm).ptr(ptr(coef)));
    }

    @Override
    protected void doScaleBy(Buffer x, Buffer factor) {
        bind();
        int n = x.length();
        if (n > 0) {
            launch1d(CudaKernels.SCALE_BY, n, args().i(n).ptr(ptr(x)).ptr(ptr(factor)));
        }
    }

    @Override
    protected void doAdamUpdate(Buffer params, Buffer grads, Buffer expAvg, Buffer expAvgSq, Buffer step, double lr,
                                double beta1, double beta2, double eps, double weightDecay) {
        bind();
        // The step count first (as PyTorch), and the step's scalars in double, then the elementwise update.
        launch1d(CudaKernels.ADAM_PREPARE, 1, args().ptr(ptr(step)).f64(lr).f64(beta1).f64(beta2));
        int n = params.length();
        if (n > 0) {
            launch1d(CudaKernels.ADAM_UPDATE, n, args().i(n).ptr(ptr(params)).ptr(ptr(grads)).ptr(ptr(expAvg))
                    .ptr(ptr(expAvgSq)).scalar(1 - beta1).scalar(beta2).scalar(1 - beta2).scalar(eps)
                    .scalar(weightDecay).flag(weightDecay != 0));
        }
    }

    @Override
    protected void doSgdMomentumUpdate(Buffer params, Buffer grads, Buffer momentumBuffer, Buffer step, double lr,
                                       double momentum, double weightDecay) {
        bind();
        launch1d(CudaKernels.SGD_PREPARE, 1, args().ptr(ptr(step)));
        int n = params.length();
        if (n > 0) {
            launch1d(CudaKernels.SGD_MOMENTUM_UPDATE, n, args().i(n).ptr(ptr(params)).ptr(ptr(grads))
                    .ptr(ptr(momentumBuffer)).scalar(-lr).scalar(momentum).scalar(weightDecay)
                    .flag(weightDecay != 0));
        }
    }

    /**
     * A CUDA graph of what {@code body} issued on this backend's stream: captured (not run) between
     * {@code cuStreamBeginCapture} and {@code cuStreamEndCapture}, instantiated once, launched by each replay.
     * The capture is thread-local, so other threads' CUDA work cannot leak into it.
     */
    @Override
    protected Replay doRecord(Runnable body) {
        bind();
        CUgraph graph = new CUgraph();
        JCudaDriver.cuStreamBeginCapture(stream, CUstreamCaptureMode.CU_STREAM_CAPTURE_MODE_THREAD_LOCAL);
        try {
            body.run();
        } catch (RuntimeException | Error e) {
            try {
                JCudaDriver.cuStreamEndCapture(stream, graph); // leave capture mode whatever happened
                JCudaDriver.cuGraphDestroy(graph);
            } catch (RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
        JCudaDriver.cuStreamEndCapture(stream, graph);
        CUgraphExec exec = new CUgraphExec();
        try {
            JCudaDriver.cuGraphInstantiate(exec, graph, 0);
        } catch (RuntimeException e) {
            JCudaDriver.cuGraphDestroy(graph);
            throw e;
        }
        return new Replay() {
            private boolean closed;

            @Override
            public void replay() {
                if (closed) {
                    throw new IllegalStateException("replay used after it was closed");
                }
                if (isClosed()) {
                    throw new IllegalStateException("cuda backend used after it was closed");
                }
                bind();
                JCudaDriver.cuGraphLaunch(exec, stream);
            }

            @Override
            public boolean recorded() {
                return true;
            }

            @Override
            public void close() {
                if (!closed) {
                    closed = true;
                    bind();
                    JCudaDriver.cuGraphExecDestroy(exec);
                    JCudaDriver.cuGraphDestroy(graph);
                }
            }
        };
    }

    @Override
    protected void doSynchronize() {
        bind();
        JCudaDriver.cuStreamSynchronize(stream);
    }

    @Override
    protected void doClose() {
        // Buffers are already freed (AbstractBackend releases them first). Wait for the stream, free the pinned staging
        // buffers, then what the constructor made in reverse order: cuBLAS, its workspace, the kernels, the stream, the
        // context. Every step runs even if an earlier one fails; the first failure is thrown.
        bind();
        owned.push(() -> {
            for (Staging slot : staging) {
                slot.close();
            }
        });
        owned.push(() -> JCudaDriver.cuStreamSynchronize(stream));
        owned.runAll();
    }
}
