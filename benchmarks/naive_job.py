"""The baseline: the four tables the way the course's learners write them.

    spark-submit benchmarks/naive_job.py --input hdfs://.../day/ --output hdfs://.../naive/

What makes it naive, on purpose (do not "fix" it: it is the yardstick):
- ``inferSchema=True``: one extra pass over the CSV just to guess the types, and ``price``
  becomes a DOUBLE (money as a float);
- no cache: each table is its own action, so the CSV is read and parsed again for each;
- a ``count()`` "for logging", one more full pass;
- no validation of the rows (the generated days are clean, so the tables still agree).
"""

from __future__ import annotations

import argparse

from pyspark.sql import SparkSession
from pyspark.sql import functions as F


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--input", required=True)
    parser.add_argument("--output", required=True)
    args = parser.parse_args()

    spark = SparkSession.builder.appName("ecommerce naive").getOrCreate()
    spark.sparkContext.setLogLevel("WARN")

    df = spark.read.csv(args.input, header=True, inferSchema=True)
    print(f"loaded {df.count()} rows")

    revenue = F.when(
        F.col("event_type") == "purchase", F.col("price") * F.col("quantity")
    ).otherwise(0)

    category_stats = df.groupBy("category").agg(
        F.count("*").alias("total_events"),
        F.countDistinct("user_id").alias("unique_users"),
        F.sum(revenue).alias("total_revenue"),
        F.sum(F.when(F.col("event_type") == "purchase", 1).otherwise(0)).alias("purchases"),
    )
    category_stats.write.mode("overwrite").parquet(f"{args.output}/category_stats")

    hourly_activity = df.groupBy(F.hour("timestamp").alias("hour")).agg(
        F.count("*").alias("events"),
        F.countDistinct("user_id").alias("active_users"),
    )
    hourly_activity.write.mode("overwrite").parquet(f"{args.output}/hourly_activity")

    funnel = df.groupBy("event_type").agg(F.count("*").alias("count"))
    funnel.write.mode("overwrite").parquet(f"{args.output}/funnel")

    user_behavior = df.groupBy("user_id").agg(
        F.count("*").alias("total_events"),
        F.countDistinct("session_id").alias("sessions"),
        F.sum(revenue).alias("total_spent"),
        F.sort_array(F.collect_set("category")).alias("categories_viewed"),
    )
    user_behavior.write.mode("overwrite").parquet(f"{args.output}/user_behavior")

    spark.stop()


if __name__ == "__main__":
    main()
