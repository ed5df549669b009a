package org.rnn4j.trace;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.rnn4j.train.LstmTrainer;
import org.rnn4j.train.RnnTrainer;

/**
 * The trace format of the seeds' oracle scripts ({@code tools/oracle/} in the repository), one JSON object per line,
 * same keys and meaning, so that any rnn4j run can be compared with the oracle at the same settings.
 * <ul>
 *   <li>RNN: {@code {"iter", "error", "pred", "true", "a", "b", "out"}}: the seed's {@code overallError}, its predicted
 *       and true bits (most significant first), the addends, and the predicted sum.</li>
 *   <li>LSTM: {@code {"iter", "y_pred", "loss"}}: {@code h[0]} at every step and the loss summed over the steps.</li>
 * </ul>
 * Values are those of the iteration's forward pass, before its update.
 */
public final class Traces {

    static final ObjectMapper JSON = new ObjectMapper();

    private Traces() {
    }

    /**
     * One line of an RNN trace, with the keys of the seed's oracle.
     *
     * @param r the iteration's report
     * @return {@code {"iter", "error", "pred", "true", "a", "b", "out"}}, the bits most significant first
     */
    public static ObjectNode rnn(RnnTrainer.Report r) {
        ObjectNode o = JSON.createObjectNode();
        o.put("iter", r.iteration());
        o.put("error", r.error());
        ArrayNode pred = o.putArray("pred");
        for (int bit : RnnTrainer.Report.bits(r.predicted())) {
            pred.add(bit);
        }
        ArrayNode truth = o.putArray("true");
        for (int bit : RnnTrainer.Report.bits(r.sum())) {
            truth.add(bit);
        }
        o.put("a", r.a());
        o.put("b", r.b());
        o.put("out", r.predicted());
        return o;
    }

    /**
     * One line of an LSTM trace, with the keys of the seed's oracle.
     *
     * @param r the iteration's report
     * @return {@code {"iter", "y_pred", "loss"}}: {@code h[0]} at every step, and the loss summed over the steps
     */
    public static ObjectNode lstm(LstmTrainer.Report r) {
        ObjectNode o = JSON.createObjectNode();
        o.put("iter", r.iteration());
        ArrayNode preds = o.putArray("y_pred");
        for (double p : r.predictions()) {
            preds.add(p);
        }
        o.put("loss", r.loss());
        return o;
    }
}
