"""gensim skip-gram on a pre-tokenised corpus (one sentence per line), timed like gensim reports it.

Vocabulary building is excluded from the clock; words/s = raw corpus words x epochs / train time.
Writes the input vectors in the word2vec text format and prints one JSON object.
"""
import json
import sys
import time

from gensim.models import Word2Vec
from gensim.models.word2vec import LineSentence


def main(corpus, out, workers, epochs, seed):
    sentences = LineSentence(corpus, max_sentence_length=10000)
    model = Word2Vec(vector_size=100, window=5, negative=5, hs=0, sg=1, min_count=5, sample=1e-3,
                     alpha=0.025, min_alpha=0.0001, workers=workers, seed=seed, epochs=epochs)
    model.build_vocab(sentences)
    raw = model.corpus_total_words
    t0 = time.perf_counter()
    model.train(sentences, total_examples=model.corpus_count, epochs=epochs)
    seconds = time.perf_counter() - t0
    model.wv.save_word2vec_format(out)
    import gensim
    print(json.dumps({"seconds": seconds, "rawWords": raw, "wordsPerSecond": raw * epochs / seconds,
                      "vocabulary": len(model.wv), "version": gensim.__version__}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]))
