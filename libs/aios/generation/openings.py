"""The opening line of an extractive draft, by classification label: the only words of a draft not taken from the KB.

They acknowledge the request and state no fact, so they can never contradict the tenant's documents.
"""

from __future__ import annotations

GENERIC = "Thank you for your message. Here is what our help articles say:"

OPENINGS: dict[str, str] = {
    "freeze_account": "Thank you for contacting us about freezing your account. Here is how it works:",
    "account_blocked": "We understand a blocked account is worrying. Here is what our help articles say:",
    "routing": "Thank you for asking about your routing number. Here is where to find it:",
    "pin_change": "Thank you for asking about your PIN. Here is what you can do:",
    "bill_due": "Thank you for asking about your bill's due date. Here is what our help articles say:",
    "pay_bill": "Thank you for asking about paying a bill. Here is how to do it:",
    "bill_balance": "Thank you for asking what you owe on a bill. Here is what our help articles say:",
    "min_payment": "Thank you for asking about your minimum payment. Here is what our help articles say:",
    "interest_rate": "Thank you for asking about interest rates. Here is what our help articles say:",
    "transfer": "Thank you for asking about moving money. Here is how transfers work:",
    "order_checks": "Thank you for asking about checks. Here is how to order them:",
    "balance": "Thank you for asking about your balance. Here is where to see it:",
    "spending_history": "Thank you for asking about your spending. Here is where to see it:",
    "transactions": "Thank you for asking about your transactions. Here is where to find them:",
    "report_fraud": "We are sorry you may have been a victim of fraud. Here is what to do now:",
    "replacement_card_duration": "Thank you for asking about your replacement card. Here is what to expect:",
    "expiration_date": "Thank you for asking about your card's expiry. Here is what our help articles say:",
    "damaged_card": "We are sorry your card was damaged. Here is how to replace it:",
    "report_lost_card": "We are sorry your card is missing. Here is what to do now:",
    "card_declined": "We are sorry your card was declined. Here is what our help articles say:",
    "credit_limit": "Thank you for asking about your credit limit. Here is what our help articles say:",
    "credit_limit_change": "Thank you for asking about a higher credit limit. Here is how it works:",
    "apr": "Thank you for asking about your APR. Here is what our help articles say:",
    "redeem_rewards": "Thank you for asking about your rewards. Here is how to redeem them:",
    "rewards_balance": "Thank you for asking about your rewards balance. Here is where to see it:",
    "application_status": "Thank you for asking about your application. Here is what our help articles say:",
    "credit_score": "Thank you for asking about your credit score. Here is what our help articles say:",
    "improve_credit_score": "Thank you for asking about improving your credit score. Here is what helps:",
    "new_card": "Thank you for your interest in a new card. Here is how to apply:",
    "international_fees": "Thank you for asking about fees abroad. Here is what our help articles say:",
}


def opening_for(label: str) -> str:
    return OPENINGS.get(label, GENERIC)
