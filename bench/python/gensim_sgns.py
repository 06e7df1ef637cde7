"""gensim skip-gram on a pre-tokenised corpus (one sentence per line), in either of its modes.

mode "corpus_file": gensim's fastest path (the corpus read and split in Cython by every worker);
mode "iterable": LineSentence, the corpus re-read and split in Python every epoch.
Prints one JSON object: startedAt (ms since the epoch, after the imports: the benchmark's
end-to-end clock starts there and stops when this process exits), the seconds gensim spent in
its vocabulary scan and in training, and the raw corpus words. The vectors are written in the
word2vec text format, as every system in the benchmark does.
"""
import json
import sys
import time

from gensim.models import Word2Vec
from gensim.models.word2vec import LineSentence

STARTED_AT = time.time() * 1000


def main(corpus, out, workers, epochs, seed, mode):
    params = dict(vector_size=100, window=5, negative=5, hs=0, sg=1, min_count=5, sample=1e-3,
                  alpha=0.025, min_alpha=0.0001, workers=workers, seed=seed, epochs=epochs)
    t0 = time.perf_counter()
    if mode == "corpus_file":
        model = Word2Vec(**params)
        model.build_vocab(corpus_file=corpus)
        t1 = time.perf_counter()
        model.train(corpus_file=corpus, total_examples=model.corpus_count, total_words=model.corpus_total_words, epochs=epochs)
    else:
        sentences = LineSentence(corpus, max_sentence_length=10000)
        model = Word2Vec(**params)
        model.build_vocab(sentences)
        t1 = time.perf_counter()
        model.train(sentences, total_examples=model.corpus_count, epochs=epochs)
    t2 = time.perf_counter()
    model.wv.save_word2vec_format(out)
    import gensim
    print(json.dumps({"startedAt": STARTED_AT, "vocabSeconds": t1 - t0, "trainSeconds": t2 - t1,
                      "rawWords": model.corpus_total_words, "vocabulary": len(model.wv), "version": gensim.__version__, "mode": mode}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), sys.argv[6] if len(sys.argv) > 6 else "iterable")
